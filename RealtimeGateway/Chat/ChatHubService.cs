using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Contracts;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>What the chat hub does, across the cluster: registry and history in Redis, delivery over the backplane.</summary>
internal sealed partial class ChatHubService(
    IHubContext<ChatHub, IChatClient> hub,
    PresenceRegistry registry,
    MessageStore messages,
    ServiceInstance instance,
    ILogger<ChatHubService> logger)
    : IChatHubService
{
    private const int ReplayPageSize = 500;

    // This replica's connections, so they can be dropped (and re-register on reconnect) if the registry lost them.
    private readonly ConcurrentDictionary<string, HubCallerContext> _local = new();

    public int LocalConnections => _local.Count;

    public async Task ConnectAsync(HubCallerContext caller)
    {
        // Local first: the reconciliation below must never take a connection being registered for an orphan.
        _local[caller.ConnectionId] = caller;
        var outcome = await registry.ConnectAsync(caller.ConnectionId, UserName(caller));
        if (outcome != ConnectOutcome.Registered)
        {
            _local.TryRemove(caller.ConnectionId, out _);
            throw new HubException(outcome == ConnectOutcome.ClusterFull
                ? "The chat is full: the cluster-wide connection limit (Chat:Limits:MaxConnections) is reached. Try again later."
                : "Too many connections for this user (Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.");
        }
    }

    public async Task DisconnectAsync(HubCallerContext caller)
    {
        _local.TryRemove(caller.ConnectionId, out _);
        await ForgetConnectionAsync(caller.ConnectionId);
    }

    /// <summary>Removes a connection from the registry and tells its rooms when its user is gone from them.</summary>
    public async Task ForgetConnectionAsync(string connectionId)
    {
        var (user, roomsLeft) = await registry.DisconnectAsync(connectionId);
        foreach (var room in roomsLeft)
        {
            await hub.Clients.Group(room).UserLeft(room, user!);
        }
    }

    public async Task<JoinRoomResult> JoinRoomAsync(HubCallerContext caller, string room)
    {
        var user = UserName(caller);

        // Into the group first: whatever is stored after the registry answers below is then delivered live.
        await hub.Groups.AddToGroupAsync(caller.ConnectionId, room);
        var joined = await registry.JoinAsync(caller.ConnectionId, user, room);
        switch (joined.Status)
        {
            case JoinStatus.TooManyRooms:
                await hub.Groups.RemoveFromGroupAsync(caller.ConnectionId, room);
                throw new HubException("This connection is in too many rooms (Chat:Limits:MaxRoomsPerConnection); leave one first.");
            case JoinStatus.Unregistered:
                caller.Abort();
                throw new HubException("This connection is no longer registered (the server lost contact with it); reconnect.");
        }

        if (joined.FirstForUser)
        {
            await hub.Clients.GroupExcept(room, caller.ConnectionId).UserJoined(room, user);
        }

        return new JoinRoomResult(room, joined.Members, joined.LastMessageId, joined.LastSequence);
    }

    public async Task LeaveRoomAsync(HubCallerContext caller, string room)
    {
        var user = UserName(caller);
        var lastConnection = await registry.LeaveAsync(caller.ConnectionId, user, room)
            ?? throw new HubException($"This connection is not in room '{room}'.");
        await hub.Groups.RemoveFromGroupAsync(caller.ConnectionId, room);
        if (lastConnection)
        {
            await hub.Clients.Group(room).UserLeft(room, user);
        }
    }

    public async Task<MessageAck> SendMessageAsync(HubCallerContext caller, string room, string clientMessageId, string text)
    {
        var appended = await messages.AppendAsync(caller.ConnectionId, UserName(caller), room, clientMessageId, text);
        var message = appended.Message ?? throw new HubException($"Join room '{room}' before sending to it.");

        // Stored first, delivered second. A resend is delivered again too, because the first delivery may be
        // what failed; clients drop a sequence number they already have.
        try
        {
            await hub.Clients.Group(room).MessageReceived(message);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The message is stored and acknowledged; receivers get it from the history (gap fill, replay).
            LogDeliveryFailed(room, ex.GetType().Name);
        }

        return new MessageAck(message.Id, room, message.SentAt, message.Sequence);
    }

    /// <summary>
    /// Sends this replica's connections every message of their rooms accepted since <paramref name="since"/>:
    /// while the backplane subscription was down, live deliveries to this replica were lost.
    /// </summary>
    public async Task<int> ReplayToLocalConnectionsAsync(DateTimeOffset since)
    {
        var after = $"{since.ToUnixTimeMilliseconds()}-0";
        var missedByRoom = new Dictionary<string, IReadOnlyList<ChatMessage>>(StringComparer.Ordinal);
        var replayed = 0;
        foreach (var connectionId in _local.Keys)
        {
            foreach (var room in await registry.RoomsOfAsync(connectionId))
            {
                if (!missedByRoom.TryGetValue(room, out var missed))
                {
                    // One page is enough: a client that sees a jump in the sequence fills the rest itself.
                    missedByRoom[room] = missed = await messages.ReadAsync(room, after, ReplayPageSize);
                }

                foreach (var message in missed)
                {
                    await hub.Clients.Client(connectionId).MessageReceived(message);
                    replayed++;
                }
            }
        }

        return replayed;
    }

    public async Task<PrivateMessageAck> SendPrivateMessageAsync(HubCallerContext caller, string toUser, string text)
    {
        if (!await registry.IsOnlineAsync(toUser))
        {
            throw new HubException($"User '{toUser}' is not connected anywhere in the chat.");
        }

        var message = new PrivateChatMessage(Guid.CreateVersion7().ToString("N"), UserName(caller), toUser, text, DateTimeOffset.UtcNow);
        await hub.Clients.User(toUser).PrivateMessage(message);
        return new PrivateMessageAck(message.Id, toUser, message.SentAt);
    }

    public async Task<RoomStats> GetRoomStatsAsync(string room) =>
        await messages.StatsAsync(room, await registry.MemberCountAsync(room));

    public async Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(HubCallerContext caller, string room, string? afterMessageId, int limit)
    {
        if (!await registry.IsMemberAsync(caller.ConnectionId, room))
        {
            throw new HubException($"Join room '{room}' before reading its history.");
        }

        return await messages.ReadAsync(room, afterMessageId, limit);
    }

    public ConnectionDetails GetConnectionInfo(HubCallerContext caller) => new(caller.ConnectionId, UserName(caller), instance.Id);

    /// <summary>
    /// Forgets registry entries of this process that no longer have a connection here: a disconnect whose
    /// cleanup failed (Redis was unreachable) would otherwise count against the limits and presence forever.
    /// </summary>
    public async Task<int> ForgetOrphansAsync()
    {
        var orphans = (await registry.ConnectionsOfAsync(registry.ReplicaKey)).Where(id => !_local.ContainsKey(id)).ToList();
        foreach (var connectionId in orphans)
        {
            await ForgetConnectionAsync(connectionId);
        }

        return orphans.Count;
    }

    /// <summary>Drops every local connection; their clients reconnect and register again.</summary>
    public void AbortLocalConnections()
    {
        foreach (var connection in _local.Values)
        {
            connection.Abort();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live delivery to room {Room} failed ({Error}); the message is stored and reaches members through the history")]
    private partial void LogDeliveryFailed(string room, string error);

    // The hub requires an authenticated user, and the token's name is a validated user name.
    private static string UserName(HubCallerContext caller) => caller.User!.Identity!.Name!;
}
