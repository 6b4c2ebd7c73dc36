using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.Contracts.Client;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// One Blazor circuit's chat: its sign-in, its one gateway connection (disposed with the circuit), and what
/// the page shows — rooms, each room's messages in order and each once, members, private messages, and the
/// state of every message this user sent. Components render from it and re-render on <see cref="Changed"/>.
/// </summary>
public sealed class ChatSession(GatewayAddress gateway, GatewayTokens tokens, TimeProvider time) : IAsyncDisposable
{
    private const int HistoryOnOpen = 50;
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, RoomView> _rooms = new(StringComparer.Ordinal);
    private readonly List<PrivateChatMessage> _private = [];
    private readonly Lock _gate = new();
    private TokenResponse? _token;

    public event Func<Task>? Changed;

    public string? UserName { get; private set; }

    public ChatClient? Client { get; private set; }

    public ConnectionDetails? Connection { get; private set; }

    public string? ConnectionProblem { get; private set; }

    public HubConnectionState State => Client?.State ?? HubConnectionState.Disconnected;

    public string? CurrentRoom { get; private set; }

    public IReadOnlyList<RoomSummary> ActiveRooms { get; private set; } = [];

    public IReadOnlyList<string> JoinedRooms
    {
        get
        {
            lock (_gate)
            {
                return [.. _rooms.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    public RoomView? Room(string? room)
    {
        lock (_gate)
        {
            return room is not null && _rooms.TryGetValue(room, out var view) ? view : null;
        }
    }

    public IReadOnlyList<PrivateChatMessage> PrivateMessages
    {
        get
        {
            lock (_gate)
            {
                return [.. _private];
            }
        }
    }

    public async Task SignInAsync(string userName, CancellationToken cancellationToken)
    {
        _token = await tokens.GetAsync(userName, cancellationToken);
        UserName = userName;
        Client = new ChatClient(gateway.HubUrl, GetTokenAsync);
        Client.MessageReceived += OnMessageAsync;
        Client.UserJoined += (room, user) => UpdateRoomAsync(room, view => view.MemberJoined(user));
        Client.UserLeft += (room, user) => UpdateRoomAsync(room, view => view.MemberLeft(user));
        Client.MessageModerated += notice => UpdateRoomAsync(notice.Room, view => view.Moderated(notice.MessageId, notice.Reason));
        Client.PrivateMessageReceived += OnPrivateMessageAsync;
        Client.StateChanged += OnStateChangedAsync;
        await Client.StartAsync(cancellationToken);
        Connection = await Client.GetConnectionInfoAsync();
    }

    /// <summary>Joins (or reopens) a room: its members, its recent history, then live messages.</summary>
    public async Task JoinAsync(string room)
    {
        await Client!.JoinRoomAsync(room);
        var history = await Client.GetRecentMessagesAsync(room, HistoryOnOpen);
        var members = await Client.GetRoomMembersAsync(room);
        lock (_gate)
        {
            var view = _rooms.TryGetValue(room, out var existing) ? existing : _rooms[room] = new RoomView(room);
            view.SetMembers(members);
            foreach (var message in history)
            {
                view.Add(message);
            }

            CurrentRoom = room;
        }

        await NotifyAsync();
    }

    public async Task LeaveAsync(string room)
    {
        await Client!.LeaveRoomAsync(room);
        lock (_gate)
        {
            _rooms.Remove(room);
            if (CurrentRoom == room)
            {
                CurrentRoom = _rooms.Keys.FirstOrDefault();
            }
        }

        await NotifyAsync();
    }

    public Task SelectAsync(string room)
    {
        CurrentRoom = room;
        return NotifyAsync();
    }

    /// <summary>Sends to the current room; the message shows as sending, then acknowledged or failed (retryable).</summary>
    public Task SendAsync(string text) => SendAsync(CurrentRoom!, new OutgoingMessage(Guid.NewGuid().ToString("N"), text));

    /// <summary>Sends a failed message again under the same client message id, so it can never appear twice.</summary>
    public Task RetryAsync(string room, OutgoingMessage message) => SendAsync(room, message);

    private async Task SendAsync(string room, OutgoingMessage message)
    {
        if (Room(room) is not { } view)
        {
            return;
        }

        message.Sending();
        view.Track(message);

        await NotifyAsync();
        try
        {
            var ack = await Client!.SendMessageAsync(room, message.ClientMessageId, message.Text);
            message.Acknowledged(ack.MessageId);
        }
        catch (Exception ex) when (ex is HubException or InvalidOperationException or TaskCanceledException)
        {
            message.Failed(ex is HubException ? ex.Message : "Not connected to the gateway; retry when it is back.");
        }

        await NotifyAsync();
    }

    public async Task SendPrivateAsync(string toUser, string text)
    {
        var ack = await Client!.SendPrivateMessageAsync(toUser, text);
        lock (_gate)
        {
            _private.Add(new PrivateChatMessage(ack.MessageId, UserName!, toUser, text, ack.SentAt));
        }

        await NotifyAsync();
    }

    public async Task RefreshActiveRoomsAsync()
    {
        if (State == HubConnectionState.Connected)
        {
            ActiveRooms = await Client!.ListRoomsAsync(20);
            await NotifyAsync();
        }
    }

    private Task OnMessageAsync(ChatMessage message) => UpdateRoomAsync(message.Room, view => view.Add(message));

    private async Task OnPrivateMessageAsync(PrivateChatMessage message)
    {
        lock (_gate)
        {
            _private.Add(message);
        }

        await NotifyAsync();
    }

    private async Task OnStateChangedAsync(HubConnectionState state, Exception? error)
    {
        ConnectionProblem = error?.Message;
        if (state == HubConnectionState.Connected)
        {
            Connection = await Client!.GetConnectionInfoAsync();
        }

        await NotifyAsync();
    }

    private async Task UpdateRoomAsync(string room, Action<RoomView> update)
    {
        lock (_gate)
        {
            if (_rooms.TryGetValue(room, out var view))
            {
                update(view);
            }
        }

        await NotifyAsync();
    }

    private Task NotifyAsync() => Changed?.Invoke() ?? Task.CompletedTask;

    private async Task<string?> GetTokenAsync()
    {
        if (_token is null || _token.ExpiresAt - time.GetUtcNow() < RenewBefore)
        {
            _token = await tokens.GetAsync(UserName!, CancellationToken.None);
        }

        return _token.Token;
    }

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }
    }
}

/// <summary>
/// One joined room as the page shows it. Updated from the connection's event loop and read by the renderer,
/// so every access takes its lock and reads return copies.
/// </summary>
public sealed class RoomView(string room)
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<long, ChatMessage> _bySequence = [];
    private readonly HashSet<string> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OutgoingMessage> _outgoing = new(StringComparer.Ordinal);

    public string Room { get; } = room;

    public IReadOnlyList<ChatMessage> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _bySequence.Values];
            }
        }
    }

    public IReadOnlyList<string> Members
    {
        get
        {
            lock (_gate)
            {
                return [.. _members.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>This user's messages not yet seen back from the room (sending, acknowledged, or failed).</summary>
    public IReadOnlyList<OutgoingMessage> Outgoing
    {
        get
        {
            lock (_gate)
            {
                return [.. _outgoing.Values];
            }
        }
    }

    /// <summary>Adds a message once (history and live deliveries overlap), and retires the matching outgoing one.</summary>
    public void Add(ChatMessage message)
    {
        lock (_gate)
        {
            _bySequence.TryAdd(message.Sequence, message);
            _outgoing.Remove(message.ClientMessageId);
        }
    }

    public void Track(OutgoingMessage message)
    {
        lock (_gate)
        {
            _outgoing[message.ClientMessageId] = message;
        }
    }

    public void SetMembers(IEnumerable<string> users)
    {
        lock (_gate)
        {
            _members.UnionWith(users);
        }
    }

    public void MemberJoined(string user)
    {
        lock (_gate)
        {
            _members.Add(user);
        }
    }

    public void MemberLeft(string user)
    {
        lock (_gate)
        {
            _members.Remove(user);
        }
    }

    public void Moderated(string messageId, string reason)
    {
        lock (_gate)
        {
            var hit = _bySequence.FirstOrDefault(m => m.Value.Id == messageId);
            if (hit.Value is not null)
            {
                _bySequence[hit.Key] = hit.Value with { Moderation = reason };
            }
        }
    }
}

/// <summary>A message this user sent, and how far it got.</summary>
public sealed class OutgoingMessage(string clientMessageId, string text)
{
    public string ClientMessageId { get; } = clientMessageId;

    public string Text { get; } = text;

    public OutgoingState State { get; private set; }

    public string? Error { get; private set; }

    public string? MessageId { get; private set; }

    public void Sending() => (State, Error) = (OutgoingState.Sending, null);

    public void Acknowledged(string messageId) => (State, MessageId) = (OutgoingState.Acknowledged, messageId);

    public void Failed(string error) => (State, Error) = (OutgoingState.Failed, error);
}

public enum OutgoingState
{
    Sending,
    Acknowledged,
    Failed,
}
