using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace RealtimeDemo.Contracts.Client;

/// <summary>
/// A .NET chat client that never shows a room message twice or silently misses one. It connects the only
/// way the replicated gateway allows (WebSockets, negotiation skipped), rejoins its rooms after a reconnect,
/// and fills every gap from the room history: after a reconnect, and whenever a message's sequence number
/// jumps (a backplane hiccup can drop a live delivery). Room messages reach <see cref="MessageReceived"/> in
/// sequence order, each once.
/// </summary>
public sealed class ChatClient : IAsyncDisposable
{
    private const int GapFillPageSize = 200;
    private const int NoticesRemembered = 10_000;

    private readonly HubConnection _connection;
    private readonly Channel<Func<Task>> _work = Channel.CreateUnbounded<Func<Task>>(new() { SingleReader = true });
    private readonly Dictionary<string, RoomPosition> _rooms = new(StringComparer.Ordinal);
    private readonly HashSet<string> _noticesSeen = new(StringComparer.Ordinal);
    private readonly Queue<string> _noticeOrder = new();
    private readonly Task _worker;

    /// <param name="hubUrl">The hub, e.g. <see cref="GatewayAddress.HubUrl"/>.</param>
    /// <param name="accessTokenProvider">Returns a current token (from POST /auth/token); asked again on every reconnect.</param>
    /// <param name="keepAliveInterval">
    /// How often to ping the server when idle (default 15 s). The gateway drops a client it has not heard from
    /// within Chat:Limits:ClientTimeoutInterval (default 30 s), so keep this at most half of that.
    /// </param>
    public ChatClient(Uri hubUrl, Func<Task<string?>> accessTokenProvider, TimeSpan? keepAliveInterval = null)
    {
        var builder = new HubConnectionBuilder()
            .WithUrl(hubUrl, HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = true;
                options.AccessTokenProvider = accessTokenProvider;
            })
            .WithAutomaticReconnect();
        if (keepAliveInterval is { } interval)
        {
            builder.WithKeepAliveInterval(interval);
        }

        _connection = builder.Build();

        // Handlers only queue work: the SignalR client waits for a handler before it reads the next frame,
        // so a handler that called the server (to fill a gap) would wait for a reply it can never read.
        _connection.On<ChatMessage>(nameof(IChatClient.MessageReceived), message => Enqueue(() => AcceptAsync(message)));
        _connection.On<string, string>(nameof(IChatClient.UserJoined), (room, user) => Enqueue(() => Raise(UserJoined, room, user)));
        _connection.On<string, string>(nameof(IChatClient.UserLeft), (room, user) => Enqueue(() => Raise(UserLeft, room, user)));
        _connection.On<PrivateChatMessage>(nameof(IChatClient.PrivateMessage), message => Enqueue(() => ReceivePrivateAsync(message)));
        _connection.On<ModerationNotice>(nameof(IChatClient.MessageModerated), notice => Enqueue(() => AcceptNoticeAsync(notice)));
        _connection.Reconnecting += error => Enqueue(() => RaiseStateChanged(error));
        _connection.Reconnected += _ => Enqueue(RejoinAndFillAsync);
        _connection.Closed += error => Enqueue(() => RaiseStateChanged(error));
        _worker = Task.Run(RunWorkAsync);
    }

    /// <summary>Each room message once, in the room's order.</summary>
    public event Func<ChatMessage, Task>? MessageReceived;

    public event Func<string, string, Task>? UserJoined;

    public event Func<string, string, Task>? UserLeft;

    public event Func<PrivateChatMessage, Task>? PrivateMessageReceived;

    /// <summary>The worker moderated a room message (it may already have been shown).</summary>
    public event Func<ModerationNotice, Task>? MessageModerated;

    /// <summary>The connection state changed; the exception says why it dropped or closed, when it did.</summary>
    public event Func<HubConnectionState, Exception?, Task>? StateChanged;

    /// <summary>A call made on the client's behalf (rejoin, gap fill) failed; the client keeps going.</summary>
    public event Func<Exception, Task>? BackgroundError;

    public HubConnectionState State => _connection.State;

    /// <summary>The underlying connection, for calls this class does not wrap.</summary>
    public HubConnection Connection => _connection;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _connection.StartAsync(cancellationToken);
        await RaiseStateChanged(null);
    }

    public Task<ConnectionDetails> GetConnectionInfoAsync() =>
        _connection.InvokeAsync<ConnectionDetails>(nameof(ChatHub.GetConnectionInfo));

    /// <summary>Joins the room; it is rejoined after every reconnect until <see cref="LeaveRoomAsync"/>.</summary>
    public async Task<JoinRoomResult> JoinRoomAsync(string room)
    {
        var joined = await _connection.InvokeAsync<JoinRoomResult>(nameof(ChatHub.JoinRoom), room);
        await Serialized(() =>
        {
            // History before the join is the caller's to read; live messages continue from here.
            _rooms.TryAdd(room, new RoomPosition(joined.LastMessageId, joined.LastSequence));
            return Task.CompletedTask;
        });
        return joined;
    }

    public async Task LeaveRoomAsync(string room)
    {
        await Serialized(() =>
        {
            _rooms.Remove(room);
            return Task.CompletedTask;
        });
        await _connection.InvokeAsync(nameof(ChatHub.LeaveRoom), room);
    }

    public Task<MessageAck> SendMessageAsync(string room, string clientMessageId, string text) =>
        _connection.InvokeAsync<MessageAck>(nameof(ChatHub.SendMessage), room, clientMessageId, text);

    public Task<PrivateMessageAck> SendPrivateMessageAsync(string toUser, string text) =>
        _connection.InvokeAsync<PrivateMessageAck>(nameof(ChatHub.SendPrivateMessage), toUser, text);

    public Task<RoomStats> GetRoomStatsAsync(string room) =>
        _connection.InvokeAsync<RoomStats>(nameof(ChatHub.GetRoomStats), room);

    public Task<IReadOnlyList<ChatMessage>> GetRecentMessagesAsync(string room, int limit) =>
        _connection.InvokeAsync<IReadOnlyList<ChatMessage>>(nameof(ChatHub.GetRecentMessages), room, limit);

    public Task<IReadOnlyList<string>> GetRoomMembersAsync(string room) =>
        _connection.InvokeAsync<IReadOnlyList<string>>(nameof(ChatHub.GetRoomMembers), room);

    public Task<IReadOnlyList<RoomSummary>> ListRoomsAsync(int limit) =>
        _connection.InvokeAsync<IReadOnlyList<RoomSummary>>(nameof(ChatHub.ListRooms), limit);

    public Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(string room, string? afterMessageId, int limit) =>
        _connection.InvokeAsync<IReadOnlyList<ChatMessage>>(nameof(ChatHub.GetMessages), room, afterMessageId, limit);

    private async Task AcceptAsync(ChatMessage message)
    {
        if (!_rooms.TryGetValue(message.Room, out var position) || message.Sequence <= position.Sequence)
        {
            return; // not (or no longer) in the room, or already shown
        }

        if (message.Sequence > position.Sequence + 1)
        {
            await FillGapAsync(message.Room, "missed_delivery");
        }

        if (_rooms.TryGetValue(message.Room, out position) && message.Sequence > position.Sequence)
        {
            await DeliverAsync(message, fromHistory: false);
        }
    }

    // The worker sends a notice at least once; a retry after its crash could repeat one.
    private Task AcceptNoticeAsync(ModerationNotice notice)
    {
        if (!_rooms.ContainsKey(notice.Room) || !_noticesSeen.Add(notice.MessageId))
        {
            return Task.CompletedTask;
        }

        _noticeOrder.Enqueue(notice.MessageId);
        if (_noticeOrder.Count > NoticesRemembered)
        {
            _noticesSeen.Remove(_noticeOrder.Dequeue());
        }

        return MessageModerated?.Invoke(notice) ?? Task.CompletedTask;
    }

    private async Task ReceivePrivateAsync(PrivateChatMessage message)
    {
        using var activity = ChatClientTelemetry.StartReceive(message);
        await (PrivateMessageReceived?.Invoke(message) ?? Task.CompletedTask);
    }

    private async Task RejoinAndFillAsync()
    {
        foreach (var room in _rooms.Keys.ToList())
        {
            await _connection.InvokeAsync<JoinRoomResult>(nameof(ChatHub.JoinRoom), room);
            await FillGapAsync(room, "reconnect");
        }

        await RaiseStateChanged(null);
    }

    /// <summary>Delivers every stored message after the last one shown, page by page.</summary>
    private async Task FillGapAsync(string room, string reason)
    {
        ChatClientTelemetry.GapFilled(reason);
        while (_rooms.TryGetValue(room, out var position))
        {
            var page = await GetMessagesAsync(room, position.MessageId, GapFillPageSize);
            foreach (var message in page.Where(m => m.Sequence > position.Sequence))
            {
                await DeliverAsync(message, fromHistory: true);
            }

            if (page.Count < GapFillPageSize)
            {
                return;
            }
        }
    }

    private async Task DeliverAsync(ChatMessage message, bool fromHistory)
    {
        _rooms[message.Room] = new RoomPosition(message.Id, message.Sequence);
        using var activity = ChatClientTelemetry.StartReceive(message, fromHistory);
        await (MessageReceived?.Invoke(message) ?? Task.CompletedTask);
    }

    private Task Enqueue(Func<Task> work)
    {
        _work.Writer.TryWrite(work);
        return Task.CompletedTask;
    }

    private async Task Serialized(Func<Task> work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Enqueue(async () =>
        {
            try
            {
                await work();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        await done.Task;
    }

    private async Task RunWorkAsync()
    {
        await foreach (var work in _work.Reader.ReadAllAsync())
        {
            try
            {
                await work();
            }
            catch (Exception ex)
            {
                try
                {
                    await (BackgroundError?.Invoke(ex) ?? Task.CompletedTask);
                }
                catch (Exception)
                {
                    // A failing error handler must not stop the delivery loop.
                }
            }
        }
    }

    private static Task Raise(Func<string, string, Task>? handler, string room, string user) =>
        handler?.Invoke(room, user) ?? Task.CompletedTask;

    private Task RaiseStateChanged(Exception? error) => StateChanged?.Invoke(_connection.State, error) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _work.Writer.TryComplete();
        await _worker;
    }

    private readonly record struct RoomPosition(string? MessageId, long Sequence);
}
