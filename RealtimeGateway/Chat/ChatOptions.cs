using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>Everything about the chat a deployment may tune; section "Chat". Checked at start-up.</summary>
public sealed class ChatOptions
{
    public const string Section = "Chat";

    [Required, ValidateObjectMembers]
    public ChatLimits Limits { get; set; } = new();

    [Required, ValidateObjectMembers]
    public HistoryOptions History { get; set; } = new();

    [Required, ValidateObjectMembers]
    public RegistryOptions Registry { get; set; } = new();

    /// <summary>Browser origins allowed to open the hub (CORS and the WebSocket Origin check); .NET clients send none.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}

public sealed class ChatLimits
{
    /// <summary>Largest hub frame a client may send; a larger one closes that connection (SignalR cannot skip it).</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 32 * 1024;

    [Range(1, 100_000)]
    public int MaxTextLength { get; set; } = 4000;

    [Range(1, 10_000)]
    public int MaxRoomsPerConnection { get; set; } = 50;

    /// <summary>Sustained sends per connection per second (token bucket refill).</summary>
    [Range(0.1, 10_000)]
    public double MessagesPerSecond { get; set; } = 20;

    /// <summary>Sends a connection may make at once after being quiet (token bucket size).</summary>
    [Range(1, 100_000)]
    public int MessageBurst { get; set; } = 40;

    /// <summary>
    /// Sustained joins and leaves per connection per second, in bursts of twice MaxRoomsPerConnection: each is
    /// announced to the room's members, and a flood of them would be a flood of presence events.
    /// </summary>
    [Range(0.1, 10_000)]
    public double RoomChangesPerSecond { get; set; } = 5;

    /// <summary>A connection may join all the rooms it may hold at once and then leave them all without being refused.</summary>
    public int RoomChangeBurst() => 2 * MaxRoomsPerConnection;

    /// <summary>
    /// Joins one user may make across all its connections, counted in Redis so that closing a connection and opening
    /// another does not start afresh: as many as the user's connections may make at once and per second.
    /// </summary>
    public (int Burst, double PerSecond) UserJoinLimit() =>
        (RoomChangeBurst() * MaxConnectionsPerUser, RoomChangesPerSecond * MaxConnectionsPerUser);

    [Range(1, 1000)]
    public int MaxConnectionsPerUser { get; set; } = 5;

    /// <summary>Connections across the whole cluster, checked when a connection opens.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>
    /// WebSockets one replica holds at once, counted from before the handshake (the cluster-wide limit counts only
    /// connections that completed it): what bounds clients that open sockets and never speak.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxConnectionsPerReplica { get; set; } = 10_000;

    /// <summary>
    /// The most items one read may ask for (GetMessages, GetRecentMessages, GetOlderMessages, ListRooms). At least
    /// 200: both clients here fill a gap with pages of 200, and a smaller limit would refuse every fill.
    /// </summary>
    [Range(200, 10_000)]
    public int MaxPageSize { get; set; } = 200;

    /// <summary>
    /// Sustained items a connection may read per second: messages, rooms or names a read returns, at least
    /// CallRateFilter.LeastReadCost (10) a call. A read answered at 4 KB a message could otherwise pull tens of MB a second.
    /// </summary>
    [Range(1.0, 10_000_000.0)] // as doubles: with ints, the check converts the value to an int, which a huge value overflows and 0.6 rounds into range
    public double ItemsReadPerSecond { get; set; } = 2000;

    /// <summary>Items a connection may read at once after being quiet: by default twice a full page of history from each of its rooms (a reconnect's gap fills).</summary>
    [Range(1, 100_000_000)]
    public int ItemsReadBurst { get; set; } = 20_000;

    /// <summary>
    /// How often the server pings a quiet connection. SignalR's clients give up on a server silent for 30 s (their
    /// default server timeout), so it must ping at least twice in that time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:00:15")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long without hearing from a client before the server drops it; at least twice the clients' keep-alive
    /// (SignalR's clients ping every 15 s by default, so below 30 s a quiet default client is dropped now and then).
    /// The gateway cannot know its clients' keep-alive, so this is not checked.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:30:00")]
    public TimeSpan ClientTimeoutInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a client may leave what it is sent untaken (its output full) before the server drops it: until then
    /// its rooms' deliveries on this replica wait for it. SignalR's own send timeout, a backstop, is set to twice this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan SlowClientTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// What Redis keeps, bounded by these settings and never by traffic: per active room its history, its counter and
/// its recent client message ids; the stream the worker reads. Redis memory ≈ rooms × (MaxMessagesPerRoom +
/// DeduplicationMessages) × entry size + MaxStreamLength × entry size, where rooms are those with a message within
/// RoomRetention (a room that never held one keeps only its counter, for ChatRedisKeys.QuietRoomGraceMs, once its
/// last member has left).
/// </summary>
public sealed class HistoryOptions
{
    /// <summary>Messages kept per room for GetMessages (approximate: Redis trims whole stream nodes).</summary>
    [Range(10, 10_000_000)]
    public int MaxMessagesPerRoom { get; set; } = 1000;

    /// <summary>Entries kept in the stream the worker reads; older ones are trimmed even if unprocessed.</summary>
    [Range(1000, 100_000_000)]
    public int MaxStreamLength { get; set; } = 1_000_000;

    /// <summary>How many of a room's latest client message ids are remembered: a resend is recognised while its original is among them.</summary>
    [Range(10, 1_000_000)]
    public int DeduplicationMessages { get; set; } = 1000;

    /// <summary>A room nobody has sent to for this long (up to a minute more) is forgotten: history, counter and statistics expire together.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan RoomRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Most messages one script call stores (group commit): sends that arrive while a store is in flight wait for it
    /// and go together; 1 turns group commit off (each send its own script call, pipelined with the others).
    /// </summary>
    [Range(1, 1000)]
    public int MaxAppendBatch { get; set; } = 64;
}

public sealed class RegistryOptions
{
    /// <summary>A gateway process not heard from for this long is dead; its connections leave their rooms.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ReplicaTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
