using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

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

    /// <summary>The channel a room's events are published on (<see cref="RoomEvent"/>: messages, presence, moderation); replicas with members there subscribe.</summary>
    public static string RoomDeliveryChannel(string room) => $"chat:deliver:{room}";

    /// <summary>The one channel private messages travel on (a <c>PrivateChatMessage</c> as JSON); every replica subscribes and writes to its recipient's connections.</summary>
    public const string PrivateDeliveryChannel = "chat:deliver-private";

    /// <summary>
    /// The room's message counter, a hash: "n", the last message's sequence number, and "epoch", when (Redis's
    /// clock, ms) the count started. A counter that Redis lost starts again at 1 under a new epoch.
    /// </summary>
    public static RedisKey RoomCounter(string room) => $"chat:room:{room}:counter";

    /// <summary>The room's recent client message ids, "user\nclientMessageId" → "id sequence epoch", so a resend is not stored twice.</summary>
    public static RedisKey RoomDeduplication(string room) => $"chat:room:{room}:dedupe";

    /// <summary>The fields of <see cref="RoomDeduplication"/> oldest first, to forget the oldest past the window.</summary>
    public static RedisKey RoomDeduplicationOrder(string room) => $"chat:room:{room}:dedupe:order";

    /// <summary>Members of a room: user name → how many of that user's connections are in it.</summary>
    public static RedisKey RoomMembers(string room) => $"chat:room:{room}:members";

    /// <summary>One connection: user, replica and, when its client named itself, the client id.</summary>
    public static RedisKey Connection(string connectionId) => $"chat:conn:{connectionId}";

    /// <summary>The rooms one connection has joined.</summary>
    public static RedisKey ConnectionRooms(string connectionId) => $"chat:conn:{connectionId}:rooms";

    /// <summary>A user's connections anywhere in the cluster.</summary>
    public static RedisKey UserConnections(string user) => $"chat:user:{user}:conns";

    /// <summary>A user's join budget across its connections (a token bucket: tokens and when they were counted); expires once full again.</summary>
    public static RedisKey UserJoins(string user) => $"chat:user:{user}:joins";

    /// <summary>The connections one gateway process holds, for cleanup when it dies.</summary>
    public static RedisKey ReplicaConnections(string replica) => $"chat:replica:{replica}:conns";

    /// <summary>
    /// A channel each gateway process subscribes to while it runs: Redis drops the subscription when the process's
    /// socket closes (a killed or crashed process), long before its heartbeat is missed, so the connection limits can
    /// leave out its entries. A frozen process, or a host lost without a word, keeps it until the sweep. What is
    /// published on it is the id of one of the process's connections that its client replaced (clientId), to be closed.
    /// </summary>
    public static string ReplicaAliveChannel(string replica) => $"chat:replica:{replica}:alive";

    /// <summary>Entries the worker gave up on, with the reason (a stream).</summary>
    public static readonly RedisKey DeadLetters = "chat:messages:dead";

    /// <summary>
    /// A room's keys are renewed to their retention plus this many milliseconds, and only once their time to live has
    /// fallen below the retention: by the gateway's append and, for the statistics, by the worker. A room is forgotten
    /// between its retention and a minute more after its last message.
    /// </summary>
    public const string RetentionRenewalSlackMs = "60000";

    /// <summary>
    /// How long a room that never held a message keeps its counter (its epoch) after its last member left: a member
    /// that comes back within it (a reconnect, a drain, a tab back from sleep) finds the epoch it holds, and rooms
    /// joined and left without a word leave nothing for longer. A join gives the room its retention back.
    /// </summary>
    public const string QuietRoomGraceMs = "3600000";

    /// <summary>The worker's consumer group on <see cref="MessageStream"/>.</summary>
    public const string WorkerGroup = "chat-worker";

    /// <summary>Failed processing attempts per message id (a hash), so any worker replica knows when to give up.</summary>
    public static readonly RedisKey WorkerAttempts = "chat:worker:attempts";



    /// <summary>The worker's statistics for a room (a hash: processed, moderated, last_activity).</summary>
    public static RedisKey RoomActivity(string room) => $"chat:room:{room}:activity";

    /// <summary>Who sent to a room and when (a sorted set: user → ms), for "active senders".</summary>
    public static RedisKey RoomSenders(string room) => $"chat:room:{room}:senders";

    /// <summary>Messages of a room the worker moderated: message id → reason. History is append-only, so marks live beside it.</summary>
    public static RedisKey RoomModerated(string room) => $"chat:room:{room}:moderated";

    /// <summary>The ids in <see cref="RoomModerated"/> scored by their time, to forget marks of messages the history no longer keeps.</summary>
    public static RedisKey RoomModeratedOrder(string room) => $"chat:room:{room}:moderated:order";

    /// <summary>
    /// Written once and never expired: when it is gone, or different from what a process saw before, Redis has
    /// lost its data (a flush, a restart without persistence, a failover to an empty replica).
    /// </summary>
    public static readonly RedisKey StorageGeneration = "chat:storage:generation";

    /// <summary>Live gateway processes' last-second stats for the ops view: member = process, score = update time (ms).</summary>
    public static readonly RedisKey GatewayStatsIndex = "chat:stats:gateways";

    /// <summary>Live worker processes' stats for the ops view, as <see cref="GatewayStatsIndex"/>.</summary>
    public static readonly RedisKey WorkerStatsIndex = "chat:stats:workers";

    /// <summary>One process's stats (JSON of GatewayReplicaStats or WorkerStats), expiring when it stops updating.</summary>
    public static RedisKey ProcessStats(string process) => $"chat:stats:{process}";
}
