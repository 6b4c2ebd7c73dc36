using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// Owns the cluster's view of presence: who is connected where and which users are in which rooms, in Redis
/// (key layout in <see cref="ChatRedisKeys"/>). Every change is one Lua script that also announces it on the
/// room's delivery channel (a user's first connection in a room: UserJoined; their last: UserLeft), so
/// concurrent replicas never see a half-made change and a departure is announced exactly once.
/// </summary>
public sealed class PresenceRegistry(IConnectionMultiplexer redis, IOptions<ChatOptions> options, ServiceInstance instance, LocalConnections local)
{
    // Per-room, per-user and per-replica key names are built inside the scripts from the templates ChatRedisKeys gives
    // ({} stands for the name).
    private const string KeyFunction = """
        local function key(template, name)
          local at = string.find(template, '{}', 1, true)
          return string.sub(template, 1, at - 1) .. name .. string.sub(template, at + 2)
        end
        """;

    // Whether a gateway process is alive: it holds its subscription to its own channel, which Redis drops with its
    // socket (StayVisiblyAliveAsync). Asked once per process and script. Needs @aliveTemplate.
    private const string AliveFunction = """
        local alive = {}
        local function isAlive(replica)
          if alive[replica] == nil then
            alive[replica] = redis.call('PUBSUB', 'NUMSUB', key(@aliveTemplate, replica))[2] > 0
          end
          return alive[replica]
        end
        """;

    // Online: a connection of the user on a process still alive. A killed replica's entries stay until it is swept (a
    // replica timeout or more later): counted, a private message to a user whose only connection died with it was
    // accepted and went nowhere.
    private static readonly LuaScript IsOnlineScript = LuaScript.Prepare($$"""
        {{KeyFunction}}
        {{AliveFunction}}
        for _, id in ipairs(redis.call('SMEMBERS', @userConnections)) do
          local replica = redis.call('HGET', key(@connectionTemplate, id), 'replica')
          if replica and isAlive(replica) then return 1 end
        end
        return 0
        """);

    // A limit counts only connections on processes still alive. A killed replica's entries stay until it is swept, a
    // replica timeout or more later, while its clients reconnect at once: counted, they would be refused (and a refusal
    // is final). Whether a process is alive is whether it still holds its subscription, which Redis drops with its
    // socket; only a count at its limit is looked at that closely.
    // A client that names itself (clientId) and connects again replaces its older connections: they are not counted,
    // and their replicas are told to close them. Its connection broke without the gateway hearing of it (a network
    // that went away, not a close), so the older one would otherwise count until the client timeout, and a user at
    // the limit could not get back in. Closing them keeps one connection per client id, so naming one buys nothing
    // against the limit. (A client without an id that vanishes still counts until its replica's client timeout.)
    private static readonly LuaScript ConnectScript = LuaScript.Prepare($$"""
        {{KeyFunction}}
        {{AliveFunction}}
        local mine = redis.call('SMEMBERS', @userConnections)
        local replaced, isReplaced, replicaOf = {}, {}, {}
        local replacing = @replace == '1' and @clientId ~= ''
        if replacing or #mine >= tonumber(@maxPerUser) then
          for _, id in ipairs(mine) do
            local entry = redis.call('HMGET', key(@connectionTemplate, id), 'replica', 'client', 'attempt')
            replicaOf[id] = entry[1]
            if replacing and entry[2] == @clientId then
              -- A live connection the client made after this one: this is an attempt it gave up. (A dead replica's is replaced.)
              if tonumber(@attempt) > 0 and tonumber(entry[3] or '0') > tonumber(@attempt) and entry[1] and isAlive(entry[1]) then
                return 'superseded'
              end
              isReplaced[id] = true; table.insert(replaced, id)
            end
          end
        end
        local total = redis.call('SCARD', @connections) - #replaced
        if total >= tonumber(@maxConnections) then
          local deadCounted = {}
          for _, replica in ipairs(redis.call('ZRANGE', @replicas, 0, -1)) do
            if not isAlive(replica) then
              total = total - redis.call('SCARD', key(@replicaConnectionsTemplate, replica))
              deadCounted[replica] = true
            end
          end
          for _, id in ipairs(replaced) do
            if replicaOf[id] and deadCounted[replicaOf[id]] then total = total + 1 end -- left out twice
          end
          if total >= tonumber(@maxConnections) then return 'cluster-full' end
        end
        if #mine - #replaced >= tonumber(@maxPerUser) then
          local live = 0
          for _, id in ipairs(mine) do
            if not isReplaced[id] and replicaOf[id] and isAlive(replicaOf[id]) then live = live + 1 end
          end
          if live >= tonumber(@maxPerUser) then return 'user-full' end
        end
        redis.call('SADD', @connections, @connectionId)
        redis.call('SADD', @userConnections, @connectionId)
        redis.call('SADD', @replicaConnections, @connectionId)
        redis.call('HSET', @connection, 'user', @user, 'replica', @replica)
        if @clientId ~= '' then redis.call('HSET', @connection, 'client', @clientId, 'attempt', @attempt) end
        for _, id in ipairs(replaced) do
          if replicaOf[id] then redis.pcall('PUBLISH', key(@aliveTemplate, replicaOf[id]), id) end
        end
        return 'ok'
        """);

    // The rooms-per-connection limit and the connection's own join rate are checked by its replica before this runs;
    // the user's join budget here outlives its connections, so a client that closes and reopens its connection to
    // join again is limited too (a leave needs a join before it, and a disconnect cannot be refused). Redis's clock
    // counts the budget; a burst of 0 turns it off. The joiner itself is left out of the announcement ('except').
    private static readonly LuaScript JoinScript = LuaScript.Prepare("""
        if redis.call('EXISTS', @connection) == 0 then return {'unregistered'} end
        local first = 0
        if redis.call('SISMEMBER', @connectionRooms, @room) == 0 then
          local burst = tonumber(@joinBurst)
          if burst > 0 then
            local t = redis.call('TIME')
            local now = t[1] * 1000 + math.floor(t[2] / 1000)
            local budget = redis.call('HMGET', @userJoins, 'tokens', 'at')
            local tokens = burst
            if budget[1] then
              tokens = math.min(burst, tonumber(budget[1]) + math.max(0, now - tonumber(budget[2])) * tonumber(@joinsPerMs))
            end
            if tokens < 1 then return {'rate-limited'} end
            redis.call('HSET', @userJoins, 'tokens', tostring(tokens - 1), 'at', now)
            redis.call('PEXPIRE', @userJoins, math.ceil(burst / tonumber(@joinsPerMs)))
          end
          redis.call('SADD', @connectionRooms, @room)
          if redis.call('HINCRBY', @members, @user, 1) == 1 then first = 1 end
        end
        local count = redis.call('HLEN', @members)
        redis.call('ZADD', @activeRooms, count, @room)
        if first == 1 then
          redis.pcall('PUBLISH', @channel, cjson.encode({type = 'joined', room = @room, user = @user, except = @connectionId}))
        end
        return {'ok', first, count}
        """);

    // A room that never held a message keeps its counter (made by the first join, to give the room an epoch) only
    // ChatRedisKeys.QuietRoomGraceMs after its last member leaves, not the room's retention: joining rooms nobody
    // writes in leaves nothing in Redis for long, and a member back within the grace finds the epoch it holds.
    private static readonly LuaScript LeaveScript = LuaScript.Prepare("""
        if redis.call('SREM', @connectionRooms, @room) == 0 then return {'not-member'} end
        local last = 0
        if redis.call('HINCRBY', @members, @user, -1) <= 0 then
          redis.call('HDEL', @members, @user)
          last = 1
          redis.pcall('PUBLISH', @channel, cjson.encode({type = 'left', room = @room, user = @user}))
        end
        local count = redis.call('HLEN', @members)
        if count == 0 then
          redis.call('ZREM', @activeRooms, @room)
          if redis.call('HGET', @counter, 'n') == '0' then redis.call('PEXPIRE', @counter, @quietRoomGraceMs) end
        else
          redis.call('ZADD', @activeRooms, count, @room)
        end
        return {'ok', last, count}
        """);

    // One script, so a join can never land between reading a connection's rooms and removing it, and two
    // replicas cleaning up the same connection announce its departure once.
    private static readonly LuaScript DisconnectScript = LuaScript.Prepare($$"""
        {{KeyFunction}}
        local user = redis.call('HGET', @connection, 'user')
        if not user then return {} end
        local replica = redis.call('HGET', @connection, 'replica')
        local left = {user}
        for _, room in ipairs(redis.call('SMEMBERS', @connectionRooms)) do
          local members = key(@membersTemplate, room)
          if redis.call('HINCRBY', members, user, -1) <= 0 then
            redis.call('HDEL', members, user)
            table.insert(left, room)
            redis.pcall('PUBLISH', key(@channelTemplate, room), cjson.encode({type = 'left', room = room, user = user}))
          end
          local count = redis.call('HLEN', members)
          if count == 0 then
            redis.call('ZREM', @activeRooms, room)
            local counter = key(@counterTemplate, room)
            if redis.call('HGET', counter, 'n') == '0' then redis.call('PEXPIRE', counter, @quietRoomGraceMs) end
          else
            redis.call('ZADD', @activeRooms, count, room)
          end
        end
        redis.call('SREM', @connections, @connectionId)
        redis.call('SREM', key(@userConnectionsTemplate, user), @connectionId)
        redis.call('SREM', key(@replicaConnectionsTemplate, replica), @connectionId)
        redis.call('DEL', @connection, @connectionRooms)
        return left
        """);

    // Redis's clock, not each replica's, decides who is late.
    private static readonly LuaScript HeartbeatScript = LuaScript.Prepare("""
        local t = redis.call('TIME')
        return redis.call('ZADD', @replicas, t[1] * 1000 + math.floor(t[2] / 1000), @replica)
        """);

    private static readonly LuaScript DeadReplicasScript = LuaScript.Prepare("""
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        return redis.call('ZRANGEBYSCORE', @replicas, '-inf', now - tonumber(@timeoutMs))
        """);

    private ChatLimits Limits => options.Value.Limits;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>This process's key in the registry: the replica id plus a per-process part, so a restarted replica never inherits a dead one's entries.</summary>
    public string ReplicaKey { get; } = $"{instance.Id}.{Guid.NewGuid().ToString("N")[..8]}";

    private volatile bool _subscribedAlive;

    // One handler for every try to subscribe, so that a failed try can take it away again.
    private readonly Action<RedisChannel, RedisValue> _closeReplaced = (_, connectionId) => local.CloseReplaced((string)connectionId!);

    /// <param name="clientId">The client's own name for itself, which its reconnects carry: its older connections are replaced. Empty when it gave none.</param>
    /// <param name="attempt">
    /// The client's count of its attempts (0 when it gave none): a connection with the same client id and a higher
    /// count was made after this one, which is then refused (<see cref="ConnectOutcome.Superseded"/>), not replacing it.
    /// </param>
    /// <param name="enforceLimits">False when putting back a connection that was already admitted: it keeps its client id, and replaces nothing.</param>
    public async Task<ConnectOutcome> ConnectAsync(string connectionId, string user, string clientId = "", long attempt = 0, bool enforceLimits = true)
    {
        await StayVisiblyAliveAsync();
        var result = (string?)await Db.ScriptEvaluateAsync(ConnectScript, new
        {
            connections = ChatRedisKeys.Connections,
            userConnections = ChatRedisKeys.UserConnections(user),
            replicaConnections = ChatRedisKeys.ReplicaConnections(ReplicaKey),
            connection = ChatRedisKeys.Connection(connectionId),
            connectionId,
            user,
            clientId,
            attempt,
            replace = enforceLimits ? "1" : "0",
            replica = ReplicaKey,
            maxConnections = enforceLimits ? Limits.MaxConnections : int.MaxValue,
            maxPerUser = enforceLimits ? Limits.MaxConnectionsPerUser : int.MaxValue,
            replicas = ChatRedisKeys.Replicas,
            aliveTemplate = ChatRedisKeys.ReplicaAliveChannel(ChatRedisKeys.NamePlaceholder),
            connectionTemplate = ChatRedisKeys.Connection(ChatRedisKeys.NamePlaceholder).ToString(),
            replicaConnectionsTemplate = ChatRedisKeys.ReplicaConnections(ChatRedisKeys.NamePlaceholder).ToString(),
        });
        return result switch
        {
            "ok" => ConnectOutcome.Registered,
            "cluster-full" => ConnectOutcome.ClusterFull,
            "superseded" => ConnectOutcome.Superseded,
            _ => ConnectOutcome.UserFull,
        };
    }

    // Before this process's first connection is counted; the Redis client subscribes again after a reconnect (in
    // between, the limits leave this process's connections out: lenient for a moment, never a false refusal). What
    // arrives on the channel is a local connection that its client has replaced (ConnectScript), to be closed.
    private async Task StayVisiblyAliveAsync()
    {
        if (!_subscribedAlive)
        {
            // On the primary, where the connect script runs and counts subscribers (PUBSUB NUMSUB is per server).
            await redis.GetSubscriber().SubscribeAloneAsync(RedisChannel.Literal(ChatRedisKeys.ReplicaAliveChannel(ReplicaKey)), _closeReplaced, CommandFlags.DemandMaster);
            _subscribedAlive = true;
        }
    }

    /// <param name="enforceLimits">False when putting back a membership that was already admitted.</param>
    public async Task<JoinOutcome> JoinAsync(string connectionId, string user, string room, bool enforceLimits = true)
    {
        var (joinBurst, joinsPerSecond) = Limits.UserJoinLimit();
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(JoinScript, new
        {
            connection = ChatRedisKeys.Connection(connectionId),
            connectionRooms = ChatRedisKeys.ConnectionRooms(connectionId),
            members = ChatRedisKeys.RoomMembers(room),
            activeRooms = ChatRedisKeys.ActiveRooms,
            channel = ChatRedisKeys.RoomDeliveryChannel(room),
            userJoins = ChatRedisKeys.UserJoins(user),
            joinBurst = enforceLimits ? joinBurst : 0,
            joinsPerMs = joinsPerSecond / 1000,
            connectionId,
            room,
            user,
        }))!;
        return (string?)result[0] switch
        {
            "ok" => new JoinOutcome(JoinStatus.Joined, (int)result[2]),
            "rate-limited" => new JoinOutcome(JoinStatus.RateLimited, 0),
            _ => new JoinOutcome(JoinStatus.Unregistered, 0),
        };
    }

    /// <summary>Leaves the room; true when this was the user's last connection in it.</summary>
    public async Task<bool?> LeaveAsync(string connectionId, string user, string room)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(LeaveScript, new
        {
            connectionRooms = ChatRedisKeys.ConnectionRooms(connectionId),
            members = ChatRedisKeys.RoomMembers(room),
            activeRooms = ChatRedisKeys.ActiveRooms,
            channel = ChatRedisKeys.RoomDeliveryChannel(room),
            counter = ChatRedisKeys.RoomCounter(room),
            quietRoomGraceMs = ChatRedisKeys.QuietRoomGraceMs,
            room,
            user,
        }))!;
        return (string?)result[0] == "ok" ? (int)result[1] == 1 : null;
    }

    /// <summary>Removes a connection everywhere, atomically; returns the rooms its user no longer has any connection in.</summary>
    public async Task<(string? User, IReadOnlyList<string> RoomsLeft)> DisconnectAsync(string connectionId)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(DisconnectScript, new
        {
            connection = ChatRedisKeys.Connection(connectionId),
            connectionRooms = ChatRedisKeys.ConnectionRooms(connectionId),
            connections = ChatRedisKeys.Connections,
            activeRooms = ChatRedisKeys.ActiveRooms,
            connectionId,
            membersTemplate = ChatRedisKeys.RoomMembers(ChatRedisKeys.NamePlaceholder).ToString(),
            userConnectionsTemplate = ChatRedisKeys.UserConnections(ChatRedisKeys.NamePlaceholder).ToString(),
            replicaConnectionsTemplate = ChatRedisKeys.ReplicaConnections(ChatRedisKeys.NamePlaceholder).ToString(),
            channelTemplate = ChatRedisKeys.RoomDeliveryChannel(ChatRedisKeys.NamePlaceholder),
            counterTemplate = ChatRedisKeys.RoomCounter(ChatRedisKeys.NamePlaceholder).ToString(),
            quietRoomGraceMs = ChatRedisKeys.QuietRoomGraceMs,
        }))!;

        // Empty: never registered, or already cleaned up by another replica.
        return result.Length == 0 ? (null, []) : ((string?)result[0], [.. result.Skip(1).Select(r => (string)r!)]);
    }

    public async Task<bool> IsOnlineAsync(string user) =>
        (int)await Db.ScriptEvaluateAsync(IsOnlineScript, new
        {
            userConnections = ChatRedisKeys.UserConnections(user),
            aliveTemplate = ChatRedisKeys.ReplicaAliveChannel(ChatRedisKeys.NamePlaceholder),
            connectionTemplate = ChatRedisKeys.Connection(ChatRedisKeys.NamePlaceholder).ToString(),
        }) == 1;

    public async Task<IReadOnlyList<RoomSummary>> BusiestRoomsAsync(int limit) =>
        [.. (await Db.SortedSetRangeByRankWithScoresAsync(ChatRedisKeys.ActiveRooms, 0, limit - 1, Order.Descending))
            .Select(r => new RoomSummary((string)r.Element!, (int)r.Score))];

    public async Task<long> ActiveRoomCountAsync() => await Db.SortedSetLengthAsync(ChatRedisKeys.ActiveRooms);

    public async Task<long> ConnectionCountAsync() => await Db.SetLengthAsync(ChatRedisKeys.Connections);

    /// <summary>User names in the room, at most <paramref name="limit"/>, sorted.</summary>
    public async Task<IReadOnlyList<string>> MembersAsync(string room, int limit) =>
        [.. (await Db.HashKeysAsync(ChatRedisKeys.RoomMembers(room))).Select(u => (string)u!).Order(StringComparer.Ordinal).Take(limit)];

    public async Task<int> MemberCountAsync(string room) =>
        (int)await Db.HashLengthAsync(ChatRedisKeys.RoomMembers(room));

    /// <summary>Marks this process alive; true when the registry did not know it (first beat, or it was swept as dead).</summary>
    public async Task<bool> HeartbeatAsync() =>
        (int)await Db.ScriptEvaluateAsync(HeartbeatScript, new { replicas = ChatRedisKeys.Replicas, replica = ReplicaKey }) == 1;

    public async Task<IReadOnlyList<string>> DeadReplicasAsync()
    {
        var dead = (RedisResult[])(await Db.ScriptEvaluateAsync(DeadReplicasScript, new
        {
            replicas = ChatRedisKeys.Replicas,
            timeoutMs = (long)options.Value.Registry.ReplicaTimeout.TotalMilliseconds,
        }))!;
        return [.. dead.Select(r => (string)r!).Where(r => r != ReplicaKey)];
    }

    public async Task<IReadOnlyList<string>> ConnectionsOfAsync(string replica) =>
        [.. (await Db.SetMembersAsync(ChatRedisKeys.ReplicaConnections(replica))).Select(c => (string)c!)];

    public async Task ForgetReplicaAsync(string replica)
    {
        await Db.KeyDeleteAsync(ChatRedisKeys.ReplicaConnections(replica));
        await Db.SortedSetRemoveAsync(ChatRedisKeys.Replicas, replica);
    }
}

public enum ConnectOutcome
{
    Registered,
    ClusterFull,
    UserFull,

    /// <summary>The client connected again after it gave this attempt up (a later attempt with its client id is registered).</summary>
    Superseded,
}

public enum JoinStatus
{
    Joined,

    /// <summary>The registry does not know the connection: another replica took this one for dead, or Redis lost its data.</summary>
    Unregistered,

    /// <summary>The user has used up its joins across its connections (ChatLimits.UserJoinLimit); nothing changed.</summary>
    RateLimited,
}

public sealed record JoinOutcome(JoinStatus Status, int Members);
