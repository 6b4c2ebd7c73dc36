using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.RealtimeGateway.Hub;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>What the chat hub does, across the cluster: registry and history in Redis, delivery by <see cref="MessageDelivery"/>.</summary>
internal sealed class ChatHubService(
    IHubContext<ChatHub, IChatClient> hub,
    PresenceRegistry registry,
    MessageStore messages,
    MessageDelivery delivery,
    ServiceInstance instance)
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
            throw outcome == ConnectOutcome.ClusterFull
                ? new ChatHubError(ChatErrorCodes.ClusterFull, "The chat is full: the cluster-wide connection limit (Chat:Limits:MaxConnections) is reached. Try again later.")
                : new ChatHubError(ChatErrorCodes.UserFull, "Too many connections for this user (Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.");
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
                throw new ChatHubError(ChatErrorCodes.TooManyRooms, "This connection is in too many rooms (Chat:Limits:MaxRoomsPerConnection); leave one first.");
            case JoinStatus.Unregistered:
                caller.Abort();
                throw new ChatHubError(ChatErrorCodes.Unregistered, "This connection is no longer registered (the server lost contact with it); reconnect.");
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
            ?? throw new ChatHubError(ChatErrorCodes.NotMember, $"This connection is not in room '{room}'.");
        await hub.Groups.RemoveFromGroupAsync(caller.ConnectionId, room);
        if (lastConnection)
        {
            await hub.Clients.Group(room).UserLeft(room, user);
        }
    }

    public async Task<MessageAck> SendMessageAsync(HubCallerContext caller, string room, string clientMessageId, string text)
    {
        var sent = await delivery.SendToRoomAsync(caller.ConnectionId, UserName(caller), room, clientMessageId, text);
        var message = sent.Message ?? throw new ChatHubError(ChatErrorCodes.NotMember, $"Join room '{room}' before sending to it.");
        return new MessageAck(message.Id, room, message.SentAt, message.Sequence);
    }

    public async Task<PrivateMessageAck> SendPrivateMessageAsync(HubCallerContext caller, string toUser, string text)
    {
        if (!await registry.IsOnlineAsync(toUser))
        {
            throw new ChatHubError(ChatErrorCodes.UserNotFound, $"User '{toUser}' is not connected anywhere in the chat.");
        }

        var message = await delivery.SendToUserAsync(UserName(caller), toUser, text);
        return new PrivateMessageAck(message.Id, toUser, message.SentAt);
    }

    public async Task<RoomStats> GetRoomStatsAsync(string room) =>
        await messages.StatsAsync(room, await registry.MemberCountAsync(room));

    public async Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(HubCallerContext caller, string room, string? afterMessageId, int limit)
    {
        if (!await registry.IsMemberAsync(caller.ConnectionId, room))
        {
            throw new ChatHubError(ChatErrorCodes.NotMember, $"Join room '{room}' before reading its history.");
        }

        return await messages.ReadAsync(room, afterMessageId, limit);
    }

    public ConnectionDetails GetConnectionInfo(HubCallerContext caller) => new(caller.ConnectionId, UserName(caller), instance.Id);

    /// <summary>
    /// Sends this replica's connections every message of their rooms accepted since <paramref name="since"/>:
    /// while the Redis subscription was down, live deliveries to this replica were lost.
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

    // The hub requires an authenticated user, and the token's name is a validated user name.
    private static string UserName(HubCallerContext caller) => caller.User!.Identity!.Name!;
}
