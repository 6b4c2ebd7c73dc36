using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// What the chat hub does, across the cluster: the registry and the history in Redis, this replica's side of a
/// room's membership (<see cref="RoomMembership"/>), sending by <see cref="MessageSender"/>.
/// </summary>
internal sealed class ChatHubService(
    IHubContext<ChatHub, IChatClient> hub,
    PresenceRegistry registry,
    MessageStore messages,
    MessageSender sender,
    LocalConnections local,
    ReplicaDrain drain,
    RoomMembership membership,
    ServiceInstance instance,
    IOptions<ChatOptions> options)
    : IChatHubService
{
    private const int ReplayPageSize = 500;
    private const int MaxMembersListed = 500;

    // The lifetime manager has added the connection to LocalConnections before this runs, so the orphan
    // reconciliation below never takes a connection being registered for an orphan.
    public async Task ConnectAsync(HubCallerContext caller)
    {
        var http = caller.GetHttpContext();
        var outcome = await registry.ConnectAsync(caller.ConnectionId, UserName(caller), ClientId(http), Attempt(http));
        if (outcome != ConnectOutcome.Registered)
        {
            throw outcome switch
            {
                ConnectOutcome.ClusterFull => new ChatConnectionRefused(ChatErrorCodes.ClusterFull, "The chat is full: the cluster-wide connection limit (Chat:Limits:MaxConnections) is reached. Try again later."),
                ConnectOutcome.Superseded => new ChatConnectionRefused(ChatErrorCodes.Superseded,
                    "This connection attempt came after its client had given it up: a later attempt with the same clientId holds the connection."),
                _ => new ChatConnectionRefused(ChatErrorCodes.UserFull, $"Too many connections for this user (at most {options.Value.Limits.MaxConnectionsPerUser}, Chat:Limits:MaxConnectionsPerUser). Close another tab or client first."),
            };
        }
    }

    /// <summary>
    /// Closes the connection's gate first: a join still in flight either finished before (and is cleaned up
    /// here) or is refused after, so no interleaving leaves a member behind.
    /// </summary>
    public async Task DisconnectAsync(HubCallerContext caller)
    {
        using (await local.CloseAsync(caller.ConnectionId))
        {
            drain.ThrowIfLeavingWithoutRedis();
            await ForgetConnectionAsync(caller.ConnectionId);
        }
    }

    /// <summary>Removes a connection from the registry (which tells its rooms when its user is gone from them).</summary>
    public Task ForgetConnectionAsync(string connectionId) => registry.DisconnectAsync(connectionId);

    public async Task<JoinRoomResult> JoinRoomAsync(HubCallerContext caller, string room)
    {
        var (connectionId, user) = (caller.ConnectionId, UserName(caller));
        using var gate = await local.EnterAsync(connectionId) ?? throw Closing();

        // A refused join leaves no trace: checked before the registry, the group or the room's deliveries hear of it.
        var limit = options.Value.Limits.MaxRoomsPerConnection;
        if (!local.IsIn(connectionId, room) && local.RoomsOf(connectionId).Count >= limit)
        {
            throw new ChatHubError(ChatErrorCodes.TooManyRooms, $"This connection is in too many rooms (at most {limit}, Chat:Limits:MaxRoomsPerConnection); leave one first.");
        }

        var joined = await registry.JoinAsync(connectionId, user, room);
        if (joined.Status == JoinStatus.Unregistered)
        {
            // The connection is alive (its gate is open), but another replica took this one for dead, or Redis
            // lost its data: put its entries back.
            await RegisterAgainAsync(connectionId, user);
            joined = await registry.JoinAsync(connectionId, user, room);
            if (joined.Status == JoinStatus.Unregistered)
            {
                // Lost again at once (Redis flushed twice in a row): nothing is joined; the error filter logs this
                // once and tells the caller the server failed, and the next join tries again.
                throw new InvalidOperationException("The registry forgot this connection again right after it was put back.");
            }
        }

        if (joined.Status == JoinStatus.RateLimited)
        {
            var limits = options.Value.Limits;
            var (burst, perSecond) = limits.UserJoinLimit();
            throw new ChatHubError(ChatErrorCodes.RateLimited,
                $"Too many joins by this user across its connections: at most {perSecond:0.##} per second, bursts of {burst} " +
                "(Chat:Limits:RoomChangesPerSecond and twice Chat:Limits:MaxRoomsPerConnection, each times Chat:Limits:MaxConnectionsPerUser; " +
                "a new connection does not start afresh). Wait a moment and try again.");
        }

        // Deliveries start now; where the history ends is read after that, so whatever is stored later
        // reaches this connection live, and whatever was stored earlier is history the caller can read.
        var wasMember = local.IsIn(connectionId, room);
        RoomPosition position;
        try
        {
            await membership.JoinAsync(connectionId, room);
            position = await messages.PositionAsync(room);
        }
        catch when (!wasMember)
        {
            // The caller hears the join failed: it must not be half in the room. (Redis may refuse this too;
            // then the registry entry goes with the connection, or at the next join.)
            await membership.LeaveAsync(connectionId, room);
            await registry.LeaveAsync(connectionId, user, room);
            throw;
        }

        return new JoinRoomResult(room, joined.Members, position.LastMessageId, position.LastSequence, position.Epoch);
    }

    public async Task LeaveRoomAsync(HubCallerContext caller, string room)
    {
        var (connectionId, user) = (caller.ConnectionId, UserName(caller));
        using var gate = await local.EnterAsync(connectionId) ?? throw Closing();
        if (!local.IsIn(connectionId, room))
        {
            throw new ChatHubError(ChatErrorCodes.NotMember, $"{ChatHubMethods.NotInRoomRefusal} '{room}'.");
        }

        await registry.LeaveAsync(connectionId, user, room);
        await membership.LeaveAsync(connectionId, room);
    }

    public async Task<MessageAck> SendMessageAsync(HubCallerContext caller, string room, string clientMessageId, string text)
    {
        EnsureMember(caller, room, "sending to it");
        var message = (await sender.SendToRoomAsync(UserName(caller), room, clientMessageId, text)).Message;
        return new MessageAck(message.Id, room, message.SentAt, message.Sequence, message.Epoch);
    }

    public async Task<PrivateMessageAck> SendPrivateMessageAsync(HubCallerContext caller, string toUser, string text)
    {
        if (!await registry.IsOnlineAsync(toUser))
        {
            throw new ChatHubError(ChatErrorCodes.UserNotFound, $"User '{toUser}' is not connected anywhere in the chat.");
        }

        var message = await sender.SendToUserAsync(UserName(caller), toUser, text);
        return new PrivateMessageAck(message.Id, toUser, message.SentAt);
    }

    public async Task<RoomStats> GetRoomStatsAsync(string room) =>
        await messages.StatsAsync(room, await registry.MemberCountAsync(room));

    public async Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(HubCallerContext caller, string room, string? afterMessageId, int limit)
    {
        EnsureMember(caller, room, "reading its history or members");
        return await messages.ReadAsync(room, afterMessageId, limit);
    }

    public async Task<IReadOnlyList<ChatMessage>> GetRecentMessagesAsync(HubCallerContext caller, string room, int limit)
    {
        EnsureMember(caller, room, "reading its history or members");
        return await messages.ReadLatestAsync(room, limit);
    }

    public async Task<IReadOnlyList<ChatMessage>> GetOlderMessagesAsync(HubCallerContext caller, string room, string beforeMessageId, int limit)
    {
        EnsureMember(caller, room, "reading its history or members");
        return await messages.ReadBeforeAsync(room, beforeMessageId, limit);
    }

    public Task<IReadOnlyList<RoomSummary>> ListRoomsAsync(int limit) => registry.BusiestRoomsAsync(limit);

    public async Task<IReadOnlyList<string>> GetRoomMembersAsync(HubCallerContext caller, string room)
    {
        EnsureMember(caller, room, "reading its history or members");
        return await registry.MembersAsync(room, MaxMembersListed);
    }

    public ConnectionDetails GetConnectionInfo(HubCallerContext caller) => new(caller.ConnectionId, UserName(caller), instance.Id);

    // This replica holds the connection, so its own record of the connection's rooms is the authority.
    private void EnsureMember(HubCallerContext caller, string room, string doing)
    {
        if (!local.IsIn(caller.ConnectionId, room))
        {
            throw new ChatHubError(ChatErrorCodes.NotMember, $"Join room '{room}' before {doing}.");
        }
    }

    private static ChatHubError Closing() => new(ChatErrorCodes.ConnectionClosing, "This connection is closing.");

    /// <summary>
    /// Sends this replica's connections every message of their rooms accepted since <paramref name="since"/>:
    /// while the Redis subscription was down, live deliveries to this replica were lost.
    /// </summary>
    public async Task<int> ReplayToLocalConnectionsAsync(DateTimeOffset since)
    {
        var after = $"{since.ToUnixTimeMilliseconds()}-0";
        var missedByRoom = new Dictionary<string, IReadOnlyList<ChatMessage>>(StringComparer.Ordinal);
        var replayed = 0;
        foreach (var connectionId in local.Ids)
        {
            foreach (var room in local.RoomsOf(connectionId))
            {
                if (!missedByRoom.TryGetValue(room, out var missed))
                {
                    // One page is enough: a client that sees a jump in the sequence fills the rest itself.
                    missedByRoom[room] = missed = await messages.ReadAsync(room, after, ReplayPageSize, asOnePage: false);
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
        var orphans = (await registry.ConnectionsOfAsync(registry.ReplicaKey)).Where(id => !local.Contains(id)).ToList();
        foreach (var connectionId in orphans)
        {
            await ForgetConnectionAsync(connectionId);
        }

        return orphans.Count;
    }

    /// <summary>
    /// Puts every local connection and its rooms back into the registry, after another replica took this one
    /// for dead and removed them. The connections themselves never noticed; their rooms hear UserJoined again.
    /// </summary>
    public async Task<int> RegisterLocalConnectionsAgainAsync()
    {
        var registered = 0;
        foreach (var connectionId in local.Ids.ToList())
        {
            using var gate = await local.EnterAsync(connectionId);
            if (gate is not null && local.User(connectionId) is { } user)
            {
                await RegisterAgainAsync(connectionId, user);
                registered++;
            }
        }

        return registered;
    }

    // Callers hold the connection's gate. The registry announces each room this puts the user back in.
    private async Task RegisterAgainAsync(string connectionId, string user)
    {
        var http = local.Find(connectionId)?.GetHttpContext();
        await registry.ConnectAsync(connectionId, user, ClientId(http), Attempt(http), enforceLimits: false);
        foreach (var room in local.RoomsOf(connectionId))
        {
            await registry.JoinAsync(connectionId, user, room, enforceLimits: false);
        }
    }

    // Parsed here each time it is needed (at connect, and when the connection is put back), not through
    // Request.Query: a parsed query would stay with the request for the connection's life. The request keeps only
    // the client id and attempt of its query once the handshake is done (HubAuthentication.UseCredentialsReleased).
    private static string ClientId(HttpContext? http)
    {
        var ids = QueryValues(http, ChatHubPaths.ClientIdParameter);
        return ids.Count switch
        {
            0 => "",
            1 when ChatNames.IsValidClientId(ids[0]) => ids[0]!,
            _ => throw new ChatConnectionRefused(ChatErrorCodes.InvalidArgument,
                $"The hub address's {ChatHubPaths.ClientIdParameter} must be one value of {ChatNames.ClientIdRule}, or left out."),
        };
    }

    // Orders two connections with one client id by when the client made them, not by when they reached a replica
    // (ChatHubPaths.AttemptParameter).
    private static long Attempt(HttpContext? http)
    {
        var attempts = QueryValues(http, ChatHubPaths.AttemptParameter);
        return attempts.Count switch
        {
            0 => 0,
            1 when long.TryParse(attempts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var attempt) && attempt is >= 1 and <= ChatHubPaths.MaxAttempt => attempt,
            _ => throw new ChatConnectionRefused(ChatErrorCodes.InvalidArgument,
                $"The hub address's {ChatHubPaths.AttemptParameter} must be one whole number from 1 to {ChatHubPaths.MaxAttempt}, or left out."),
        };
    }

    // The query is parsed only when it names the parameter at all: most connections' queries are checked by a scan.
    private static StringValues QueryValues(HttpContext? http, string parameter)
    {
        var query = http?.Request.QueryString.Value;
        return string.IsNullOrEmpty(query) || !query.Contains(parameter, StringComparison.OrdinalIgnoreCase)
            ? StringValues.Empty
            : QueryHelpers.ParseQuery(query).GetValueOrDefault(parameter);
    }

    // The hub requires an authenticated user, and the token's name is a validated user name.
    private static string UserName(HubCallerContext caller) => caller.User!.Identity!.Name!;
}
