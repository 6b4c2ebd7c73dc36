using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.Client;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// One Blazor circuit's chat: its sign-in, its one gateway connection (disposed with the circuit), and what
/// the page shows — rooms, each room's latest messages in order and each once, members, private messages, the
/// state of every message this user sent, and the connection as the user should see it (including a break
/// the client recovered from quickly). Everything it keeps is bounded by <see cref="FrontendOptions"/>.
/// Components render from it and re-render on <see cref="Changed"/>. It owns what the page shows of each room;
/// which rooms the connection is in is the client's fact, so a room's view lives exactly as long as the client
/// is in the room (joined, and neither left nor given up after a reconnect).
/// </summary>
public sealed partial class ChatSession(
    GatewayAddress gateway, GatewayTokens tokens, TimeProvider time, IOptions<FrontendOptions> options, ILogger<ChatSession> logger) : IAsyncDisposable
{
    private const int HistoryOnOpen = 50;
    private const int OlderPage = 50;
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, RoomView> _rooms = new(StringComparer.Ordinal);
    private readonly Queue<PrivateChatMessage> _private = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _pauseGate = new(1, 1);
    private TokenResponse? _token;
    private bool _paused;

    public event Func<Task>? Changed;

    public string? UserName { get; private set; }

    public ChatClient? Client { get; private set; }

    public ConnectionDetails? Connection { get; private set; }

    public string? ConnectionProblem { get; private set; }

    /// <summary>The connection's state as its transitions arrived (not read live: a quick reconnect would hide the break).</summary>
    public HubConnectionState State { get; private set; } = HubConnectionState.Disconnected;

    /// <summary>The last time the connection broke, so the page can say so even after a reconnect within a second.</summary>
    public ConnectionBreak? LastBreak { get; private set; }

    public string? CurrentRoom { get; private set; }

    public IReadOnlyList<RoomSummary> ActiveRooms { get; private set; } = [];

    /// <summary>
    /// Rooms a reload did not get back (TabMemory), each with the gateway's reason, until the person next joins or
    /// leaves a room; the tab keeps them meanwhile, so another reload tries them again.
    /// </summary>
    public IReadOnlyList<(string Room, string Reason)> NotRejoinedRooms { get; private set; } = [];

    public string? RejoinProblem => NotRejoinedRooms.Count == 0 ? null
        : "Not rejoined after the reload: "
            + string.Join("; ", NotRejoinedRooms.GroupBy(r => r.Reason).Select(g => $"{string.Join(", ", g.Select(r => r.Room))} ({g.Key.TrimEnd('.')})"))
            + $". Join {(NotRejoinedRooms.Count == 1 ? "it" : "them")} again by name.";

    public void NotRejoined(IReadOnlyList<(string Room, string Reason)> rooms) => NotRejoinedRooms = rooms;

    public IReadOnlyList<string> JoinedRooms
    {
        get
        {
            lock (_gate)
            {
                return [.. _rooms.Keys.Order(ChatNames.DisplayOrder)];
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
        if (Client is not null)
        {
            // An earlier attempt that failed after connecting (its join refused): its connection would stay open
            // for the circuit's life and count toward the user's limit.
            await Client.DisposeAsync();
            Client = null;
        }

        _token = await tokens.GetAsync(userName, cancellationToken);
        UserName = userName;
        Client = new ChatClient(gateway.HubUrl, GetTokenAsync);
        Client.MessageReceived += OnMessageAsync;
        Client.UserJoined += (room, user) => UpdateRoomAsync(room, view => view.MemberJoined(user));
        Client.UserLeft += (room, user) => UpdateRoomAsync(room, view => view.MemberLeft(user));
        Client.MessageModerated += notice => UpdateRoomAsync(notice.Room, view => view.Moderated(notice.MessageId, notice.Reason));
        Client.RoomReset += room => UpdateRoomAsync(room, view => view.HistoryReset());
        Client.MessagesMissed += (room, count) => UpdateRoomAsync(room, view => view.Missed(count));
        Client.PrivateMessageReceived += OnPrivateMessageAsync;
        Client.StateChanged += OnStateChangedAsync;
        Client.BackgroundError += OnBackgroundErrorAsync;
        Connection = await Client.StartAsync(cancellationToken) ?? await Client.GetConnectionInfoAsync();
    }

    /// <summary>Joins (or reopens) a room: its members, its recent history, then live messages.</summary>
    public async Task JoinAsync(string room)
    {
        await Client!.JoinRoomAsync(room);
        // One more than shown: whether it comes says if there is anything older (RoomView.Opened).
        var history = await Client.GetRecentMessagesAsync(room, HistoryOnOpen + 1);
        var members = await Client.GetRoomMembersAsync(room);
        lock (_gate)
        {
            var view = _rooms.TryGetValue(room, out var existing) ? existing : _rooms[room] = new RoomView(room, options.Value);
            view.SetMembers(members);
            view.Opened(history, HistoryOnOpen);

            CurrentRoom = room;
        }

        NotRejoinedRooms = [];
        await NotifyAsync();
    }

    /// <summary>Fetches a page of the room's history before the oldest message shown.</summary>
    public async Task ShowOlderAsync(string room)
    {
        if (Room(room) is not { OldestId: { } oldest } view)
        {
            return;
        }

        view.AddOlder(await Client!.GetOlderMessagesAsync(room, oldest, OlderPage + 1), OlderPage);
        await NotifyAsync();
    }

    public async Task LeaveAsync(string room)
    {
        await Client!.LeaveRoomAsync(room);
        Forget(room);
        NotRejoinedRooms = [];
        await NotifyAsync();
    }

    private void Forget(string room)
    {
        lock (_gate)
        {
            _rooms.Remove(room);
            if (CurrentRoom == room)
            {
                CurrentRoom = _rooms.Keys.FirstOrDefault();
            }
        }
    }

    public Task SelectAsync(string? room)
    {
        CurrentRoom = room;
        return NotifyAsync();
    }

    /// <summary>
    /// Sends to the current room; the message shows as sending, then acknowledged or failed (retryable). False, and
    /// nothing sent, while the room's messages on their way are as many as a tab keeps (<see cref="RoomView.OutgoingFull"/>).
    /// </summary>
    public async Task<bool> SendAsync(string text)
    {
        if (Room(CurrentRoom) is { OutgoingFull: true })
        {
            return false;
        }

        await SendAsync(CurrentRoom!, new OutgoingMessage(Guid.NewGuid().ToString("N"), WithoutBlankEdges(text)));
        return true;
    }

    /// <summary>
    /// A message as a person means it: without the blank lines and spaces around it (a copied text's last line break,
    /// a Shift+Enter too many), which the contract would keep and every reader see. The first line keeps its indent.
    /// </summary>
    private static string WithoutBlankEdges(string text)
    {
        var firstVisible = text.Length - text.AsSpan().TrimStart().Length;
        if (firstVisible == text.Length)
        {
            return "";
        }

        var firstLine = text.LastIndexOf('\n', firstVisible) + 1;
        return text[firstLine..].TrimEnd();
    }

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
        catch (CallNotAnsweredException ex)
        {
            // Said as the page says it (its banner), not as the client library words it for programs.
            message.Failed(!ex.MayHaveBeenDone ? "failed: not connected to the gateway when it was sent; retry once it is back."
                : ex.ClosedByServer ? $"failed: the gateway closed the connection before it answered ({ex.Message.TrimEnd('.')}); retry once it is back."
                : "failed: the connection broke before the gateway answered; retry once it is back (it is stored once, whatever happened to this try).",
                refused: false, mayBeStored: ex.MayHaveBeenDone);
        }
        catch (HubException ex)
        {
            // Storage that timed out may still do the write (Redis runs what it had read when it answers again): the
            // message may yet show up, so the page does not call it failed, and a person is not led to type it again.
            var mayBeStored = ChatClient.MayHaveBeenStored(ex);
            message.Failed(mayBeStored
                ? $"not confirmed: {ex.Message.Split(';')[0].TrimEnd('.')}; it may still be stored, and then shows here. Retry sends it again, never twice."
                : $"not sent: {ex.Message}", refused: true, mayBeStored);
        }

        await NotifyAsync();
    }

    /// <summary>Edit on a refused message: true when its line went (its text then goes back into the box), false when it was no longer one to edit.</summary>
    public async Task<bool> TakeBackAsync(string room, OutgoingMessage message)
    {
        if (!message.Editable || Room(room) is not { } view || !view.Forget(message))
        {
            return false;
        }

        await NotifyAsync();
        return true;
    }

    public async Task SendPrivateAsync(string toUser, string text)
    {
        // The person's click is the trace's root: the sender's copy links to the same trace as the recipient's.
        var trace = System.Diagnostics.Activity.Current is { Recorded: true } click ? click.Id : null;
        text = WithoutBlankEdges(text);
        var ack = await Client!.SendPrivateMessageAsync(toUser, text);
        KeepPrivate(new PrivateChatMessage(ack.MessageId, UserName!, toUser, text, ack.SentAt, trace));
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
        KeepPrivate(message);
        await NotifyAsync();
    }

    private void KeepPrivate(PrivateChatMessage message)
    {
        lock (_gate)
        {
            // A message to oneself comes back as a delivery too (before or after its ack): shown once.
            if (_private.Any(kept => kept.Id == message.Id))
            {
                return;
            }

            _private.Enqueue(message);
            while (_private.Count > options.Value.PrivateMessagesKept)
            {
                _private.Dequeue();
            }
        }
    }

    private async Task OnStateChangedAsync(HubConnectionState state, Exception? error)
    {
        var previous = State;
        State = state;
        // The client's give-up names the gateway's internal address and tells a program to start again; a person reloads.
        ConnectionProblem = error is ReconnectGaveUpException ? "The gateway could not be reached for two minutes." : error?.Message;
        // A break the client reconnects from, or the tab's pause; a close for good (a refused connection) is the
        // banner's alone.
        if (previous == HubConnectionState.Connected && (state == HubConnectionState.Reconnecting || _paused))
        {
            // A replica gone silent (frozen, or a network that drops everything) is noticed only once the client's
            // server timeout has run out after the last thing it sent: the page says since when nothing came.
            var now = time.GetUtcNow();
            DateTimeOffset? silentSince = error is TimeoutException && Client is { } client ? now - client.Connection.ServerTimeout : null;
            // A reason the gateway gave with its close (a drain, an expired token) comes as its sentence; a crash or a
            // network's break as the transport's exception, which a person need not read.
            var reason = error is HubException ? error.Message : null;
            LastBreak = new ConnectionBreak(Connection?.Replica, now, silentSince, reason, null, null);
        }
        else if (state == HubConnectionState.Connected && LastBreak is { BackAt: null } broken)
        {
            Connection = await Client!.GetConnectionInfoAsync();
            LastBreak = broken with { BackAt = time.GetUtcNow(), BackOn = Connection.Replica };
            await RefreshMembersAsync();
        }

        await NotifyAsync();
    }

    // Joins and leaves announced while the connection was down never reached it: the member lists are read again.
    private async Task RefreshMembersAsync()
    {
        foreach (var room in JoinedRooms)
        {
            try
            {
                var members = await Client!.GetRoomMembersAsync(room);
                lock (_gate)
                {
                    if (_rooms.TryGetValue(room, out var view))
                    {
                        view.SetMembers(members);
                    }
                }
            }
            catch (Exception ex) when (ex is HubException or InvalidOperationException)
            {
                // Broken again, or no longer in the room: the next reconnect reads it again.
            }
        }
    }

    private Task OnBackgroundErrorAsync(Exception error)
    {
        ConnectionProblem = error is RoomRejoinException rejoin
            ? rejoin.WillRetry ? $"Rejoining '{rejoin.Room}' failed; trying again." : $"Could not rejoin '{rejoin.Room}': {rejoin.InnerException?.Message}"
            : error.Message;
        if (error is RoomRejoinException { WillRetry: false } givenUp)
        {
            Forget(givenUp.Room); // the client is no longer in it, so the page must not show it as joined
        }

        return NotifyAsync();
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

    // A multicast Func<Task> would await only its last handler: await each.
    private async Task NotifyAsync()
    {
        foreach (var handler in Changed?.GetInvocationList().Cast<Func<Task>>() ?? [])
        {
            await handler();
        }
    }

    private async Task<string?> GetTokenAsync()
    {
        if (_token is null || _token.ExpiresAt - time.GetUtcNow() < RenewBefore)
        {
            _token = await tokens.GetAsync(UserName!, CancellationToken.None);
        }

        return _token.Token;
    }

    /// <summary>
    /// The tab is gone: closes the gateway connection, so that the others see this user leave, and keeps the
    /// rooms and what the page shows. <see cref="ResumeAsync"/> undoes it. False when there was nothing to pause (the
    /// tab never signed in to the chat, as the ops view's, or is paused already).
    /// </summary>
    public async Task<bool> PauseAsync()
    {
        await _pauseGate.WaitAsync();
        try
        {
            if (Client is null || _paused)
            {
                return false;
            }

            _paused = true;
            await Client.PauseAsync();
            return true;
        }
        finally
        {
            _pauseGate.Release();
        }
    }

    /// <summary>
    /// The tab is back: connects again, rejoins the rooms and shows what was sent meanwhile. While the gateway
    /// does not answer, the page says so and this tries again on the client's reconnect schedule, until
    /// <paramref name="cancellationToken"/> or the schedule gives up.
    /// </summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        var schedule = new ReconnectPolicy();
        var started = time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            await _pauseGate.WaitAsync(cancellationToken);
            try
            {
                if (!_paused)
                {
                    return;
                }

                await Client!.ResumeAsync(cancellationToken);
                _paused = false;
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogResumeFailed(attempt, ex.GetType().Name);
            }
            finally
            {
                _pauseGate.Release();
            }

            var wait = schedule.NextRetryDelay(new RetryContext { PreviousRetryCount = attempt, ElapsedTime = time.GetElapsedTime(started) });
            ConnectionProblem = wait is null
                ? "The gateway did not answer; reload the page to connect again."
                : "The gateway did not answer; trying again.";
            await NotifyAsync();
            if (wait is null)
            {
                return;
            }

            await Task.Delay(wait.Value, time, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A tab came back, and reconnecting its chat to the gateway failed (attempt {Attempt}, {Error}); trying again")]
    private partial void LogResumeFailed(int attempt, string error);

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }
    }
}

/// <summary>
/// A break of the connection: when it was noticed, since when the replica had been silent (a timeout), the reason the
/// gateway gave (a drain), when it came back.
/// </summary>
public sealed record ConnectionBreak(string? LostReplica, DateTimeOffset LostAt, DateTimeOffset? SilentSince, string? Reason, DateTimeOffset? BackAt, string? BackOn);
