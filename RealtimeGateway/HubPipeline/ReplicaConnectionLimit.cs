using Microsoft.Extensions.Options;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.Telemetry;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// The WebSockets this replica holds at once, counted from before the handshake. The cluster-wide limit counts a
/// connection only once it has completed the handshake and registered, so a client that opens sockets and never
/// speaks was bounded by nothing but the handshake timeout; this bounds them by a setting
/// (<c>Chat:Limits:MaxConnectionsPerReplica</c>). Beyond it a new connection's handshake is answered with an error.
/// </summary>
internal sealed partial class ReplicaConnectionLimit(IOptions<ChatOptions> options, GatewayTelemetry telemetry, ILogger<ReplicaConnectionLimit> logger)
{
    public const string Refusal = "This gateway replica holds as many connections as it may (Chat:Limits:MaxConnectionsPerReplica); try again later.";

    private readonly int _limit = options.Value.Limits.MaxConnectionsPerReplica;
    private int _open;
    // 1 from a refusal until the next connection is let in: a full replica logs once per spell, not per refusal.
    private int _refusing;

    /// <summary>Counts a new connection in, or refuses it (counted and, once per spell, logged) when the replica is full.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _open) <= _limit)
        {
            if (Volatile.Read(ref _refusing) == 1)
            {
                Volatile.Write(ref _refusing, 0);
            }

            return true;
        }

        Interlocked.Decrement(ref _open);
        telemetry.ConnectionRejected("replica_full");
        if (Interlocked.Exchange(ref _refusing, 1) == 0)
        {
            LogFull(logger, _limit);
        }

        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _open);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This replica holds {Limit} connections (Chat:Limits:MaxConnectionsPerReplica), counting those still before their handshake: new ones are refused until some close")]
    private static partial void LogFull(ILogger logger, int limit);
}
