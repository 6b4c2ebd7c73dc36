namespace RealtimeDemo.Contracts;

public static class ChatHubPaths
{
    /// <summary>Where the gateway maps the chat hub.</summary>
    public const string Hub = "/hubs/chat";

    /// <summary>
    /// The hub address's optional query parameter naming the client (one per client object, random, not stored):
    /// a connection that carries the id of one still open replaces it. A connection that broke without a close is
    /// then not counted against the user's limit while the gateway has not yet noticed (README, client rules).
    /// </summary>
    public const string ClientIdParameter = "clientId";

    /// <summary>
    /// The hub address's optional query parameter numbering a client's connection attempts (rising per client: both
    /// clients here take the clock's milliseconds, or the last number plus one, so that client objects sharing an id
    /// rise too; read only beside a <see cref="ClientIdParameter"/>): of two live connections with one client id, the
    /// one the client made later holds, whichever reached its replica later. A try the client gave up unanswered (a frozen or slow replica)
    /// may reach its replica after the client has connected elsewhere: it is refused, and no longer replaces the
    /// connection made after it.
    /// </summary>
    public const string AttemptParameter = "attempt";

    /// <summary>The largest <see cref="AttemptParameter"/> the gateway takes (Redis's Lua counts in doubles).</summary>
    public const long MaxAttempt = 999_999_999_999_999;

    /// <summary>The development token issuer (POST; off with an identity provider).</summary>
    public const string Token = "/auth/token";

    /// <summary>The cluster at a glance, for operators (GET).</summary>
    public const string OpsSnapshot = "/ops/snapshot";

    /// <summary>POST: a gateway or worker replica finishes what it holds and exits (the AppHost's `scale` command asks for it).</summary>
    public const string OpsDrain = "/ops/drain";

    /// <summary>The header that carries the ops access key (Ops:AccessKey) to <see cref="OpsSnapshot"/> and <see cref="OpsDrain"/>.</summary>
    public const string OpsKeyHeader = "X-Ops-Key";
}
