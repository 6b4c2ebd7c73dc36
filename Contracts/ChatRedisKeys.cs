using StackExchange.Redis;

namespace RealtimeDemo.Contracts;

/// <summary>
/// Where the chat keeps its state in Redis. The gateway writes all of it; the worker reads
/// <see cref="MessageStream"/> through a consumer group. Room names are validated before they reach a key.
/// </summary>
public static class ChatRedisKeys
{
    /// <summary>Stands for the name in a key template handed to a Lua script, which builds keys it discovers (a connection's rooms).</summary>
    public const string NamePlaceholder = "{}";

    /// <summary>Every accepted room message, in acceptance order; entry ids are the message ids.</summary>
    public static readonly RedisKey MessageStream = "chat:messages";

    /// <summary>All connections in the cluster (a set of connection ids).</summary>
    public static readonly RedisKey Connections = "chat:connections";

    /// <summary>Rooms with at least one member, scored by member count.</summary>
    public static readonly RedisKey ActiveRooms = "chat:rooms";

    /// <summary>Live gateway processes, scored by their last heartbeat (Redis server time, ms).</summary>
    public static readonly RedisKey Replicas = "chat:replicas";

    /// <summary>A room's retained history: a stream whose entry ids are the ids in <see cref="MessageStream"/>.</summary>
    public static RedisKey RoomHistory(string room) => $"chat:room:{room}:history";

    /// <summary>The channel a room's accepted messages are published on (JSON); replicas with members there subscribe.</summary>
    public static string RoomDeliveryChannel(string room) => $"chat:deliver:{room}";

    /// <summary>The room's message counter; its value is the last message's sequence number.</summary>
    public static RedisKey RoomSequence(string room) => $"chat:room:{room}:seq";

    /// <summary>Members of a room: user name → how many of that user's connections are in it.</summary>
    public static RedisKey RoomMembers(string room) => $"chat:room:{room}:members";

    /// <summary>One connection: user and replica.</summary>
    public static RedisKey Connection(string connectionId) => $"chat:conn:{connectionId}";

    /// <summary>The rooms one connection has joined.</summary>
    public static RedisKey ConnectionRooms(string connectionId) => $"chat:conn:{connectionId}:rooms";

    /// <summary>A user's connections anywhere in the cluster.</summary>
    public static RedisKey UserConnections(string user) => $"chat:user:{user}:conns";

    /// <summary>The connections one gateway process holds, for cleanup when it dies.</summary>
    public static RedisKey ReplicaConnections(string replica) => $"chat:replica:{replica}:conns";

    /// <summary>Entries the worker gave up on, with the reason (a stream).</summary>
    public static readonly RedisKey DeadLetters = "chat:messages:dead";

    /// <summary>The worker's consumer group on <see cref="MessageStream"/>.</summary>
    public const string WorkerGroup = "chat-worker";

    /// <summary>Failed processing attempts per message id (a hash), so any worker replica knows when to give up.</summary>
    public static readonly RedisKey WorkerAttempts = "chat:worker:attempts";

    /// <summary>Marks a message as processed by the worker, so a redelivery changes nothing twice.</summary>
    public static RedisKey WorkerProcessed(string messageId) => $"chat:worker:done:{messageId}";

    /// <summary>A moderation notice decided but not yet sent (survives a worker crash between the two).</summary>
    public static RedisKey WorkerPendingNotice(string messageId) => $"chat:worker:notice:{messageId}";

    /// <summary>The worker's statistics for a room (a hash: processed, moderated, last_activity).</summary>
    public static RedisKey RoomActivity(string room) => $"chat:room:{room}:activity";

    /// <summary>Who sent to a room and when (a sorted set: user → ms), for "active senders".</summary>
    public static RedisKey RoomSenders(string room) => $"chat:room:{room}:senders";

    /// <summary>Messages of a room the worker moderated: message id → reason. History is append-only, so marks live beside it.</summary>
    public static RedisKey RoomModerated(string room) => $"chat:room:{room}:moderated";

    /// <summary>Live gateway processes' last-second stats for the ops view: member = process, score = update time (ms).</summary>
    public static readonly RedisKey GatewayStatsIndex = "chat:stats:gateways";

    /// <summary>Live worker processes' stats for the ops view, as <see cref="GatewayStatsIndex"/>.</summary>
    public static readonly RedisKey WorkerStatsIndex = "chat:stats:workers";

    /// <summary>One process's stats (JSON of GatewayReplicaStats or WorkerStats), expiring when it stops updating.</summary>
    public static RedisKey ProcessStats(string process) => $"chat:stats:{process}";

    /// <summary>Remembers a sent message's ack so a resend with the same client message id is not stored twice.</summary>
    public static RedisKey Deduplication(string user, string room, string clientMessageId) => $"chat:dedupe:{user}:{room}:{clientMessageId}";
}
