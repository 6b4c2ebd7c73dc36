using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.Client;

/// <summary>
/// A .NET chat client that never shows a room message twice or silently misses one. It connects the only
/// way the replicated gateway allows (WebSockets, negotiation skipped), rejoins its rooms after a reconnect,
/// and fills every gap from the room history: after a reconnect, whenever a message's sequence number jumps
/// (a backplane hiccup can drop a live delivery), and from the start of what is kept when the room's epoch
/// changes (the storage lost the room's counter). Deliveries that arrive while a join is on its way are held
/// until its reply says where the room stood. Room messages reach <see cref="MessageReceived"/> in sequence
/// order, each once. It owns which rooms this connection is in and how far it has shown each.
/// </summary>
public sealed class ChatClient : IAsyncDisposable
{
    private const int GapFillPageSize = 200;
    private const int NoticesRemembered = 10_000;
    private const int HeldWhileJoiningLimit = 1_000;
    private const int RejoinAttempts = 4;
    private static readonly TimeSpan FirstRejoinRetry = TimeSpan.FromSeconds(1);

    private readonly HubConnection _connection;
    private readonly Channel<Func<Task>> _work = Channel.CreateUnbounded<Func<Task>>(new() { SingleReader = true });
    private readonly Dictionary<string, RoomPosition> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ChatMessage>> _joining = new(StringComparer.Ordinal);
    private readonly HashSet<string> _noticesSeen = new(StringComparer.Ordinal);
    private readonly Queue<string> _noticeOrder = new();
    private readonly Task _worker;
    private HubConnectionState _reported = HubConnectionState.Disconnected; // the last state raised; the work queue's alone
    private readonly Uri _hubUrl;
    private RetryContext? _lastRetry; // what the reconnect policy was last asked: the try's bound, how a give-up is explained
    private volatile bool _rejoining; // the rooms are being rejoined after a (re)connect: not Connected yet
    private readonly TimeSpan _connectTimeout;
    private string? _lastToken; // what the last connection attempt carried: a refused WebSocket is asked about with it
    private TaskCompletionSource<Exception?> _closed = NewClosedSignal(); // completed with the reason of the connection's next close

    /// <param name="hubUrl">The hub, e.g. http://localhost:5310/hubs/chat (the frontend finds it in the configuration Aspire gives it).</param>
    /// <param name="accessTokenProvider">Returns a current token (from POST /auth/token); asked again on every reconnect.</param>
    /// <param name="keepAliveInterval">
    /// How often to ping the server when idle (default 15 s). The gateway drops a client it has not heard from
    /// within Chat:Limits:ClientTimeoutInterval (default 30 s), so keep this at most half of that.
    /// </param>
    /// <param name="configureConnection">Anything else about the connection (a proxy, headers, a test server's sockets).</param>
    /// <param name="reconnectPolicy">When to try reconnecting after a break (default <see cref="ReconnectPolicy"/>); a give-up is reported as a <see cref="ReconnectGaveUpException"/>.</param>
    /// <param name="connectTimeout">
    /// How long <see cref="StartAsync"/> tries to connect (default 30 s): a try not answered within 3 s (the last one gets what
    /// is left) is made again, for behind a proxy the next may reach a live replica. A reconnect try waits at most 3 s,
    /// from the third try 10 s (or this, if shorter), for the token and the WebSocket's opening. SignalR waits as long as
    /// an address that accepts and never answers (a stuck gateway or proxy) holds it.
    /// </param>
    public ChatClient(Uri hubUrl, Func<Task<string?>> accessTokenProvider, TimeSpan? keepAliveInterval = null, Action<HttpConnectionOptions>? configureConnection = null,
        IRetryPolicy? reconnectPolicy = null, TimeSpan? connectTimeout = null)
    {
        _connectTimeout = connectTimeout ?? TimeSpan.FromSeconds(30);
        if (_connectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(connectTimeout), _connectTimeout, "The connect timeout must be longer than zero.");
        }

        if (Carries(hubUrl, ChatHubPaths.AttemptParameter))
        {
            throw new ArgumentException($"The hub's address must not carry an {ChatHubPaths.AttemptParameter}: the client numbers its connection attempts itself.", nameof(hubUrl));
        }

        _hubUrl = WithClientId(hubUrl);
        var builder = new HubConnectionBuilder()
            .WithUrl(_hubUrl, HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = true;
                options.AccessTokenProvider = async () => _lastToken = await accessTokenProvider();
                configureConnection?.Invoke(options);
                var configureSocket = options.WebSocketConfiguration;
                options.WebSocketConfiguration = socket =>
                {
                    LeaveTheStartersTraceOnReconnect();
                    configureSocket?.Invoke(socket);
                };
                var open = options.WebSocketFactory ?? OpenWebSocketAsync;
                options.WebSocketFactory = (context, cancellationToken) => OpenWithinConnectTimeoutAsync(open, context, cancellationToken);
            })
            .WithAutomaticReconnect(new RecordingRetries(reconnectPolicy ?? new ReconnectPolicy(), retry => _lastRetry = retry));
        if (keepAliveInterval is { } interval)
        {
            builder.WithKeepAliveInterval(interval);
        }

        _connection = builder.Build();

        // Handlers only queue work: the SignalR client waits for a handler before it reads the next frame,
        // so a handler that called the server (to fill a gap) would wait for a reply it can never read.
        _connection.On<ChatMessage>(nameof(IChatClient.MessageReceived), message => Enqueue(() => AcceptAsync(message)));
        _connection.On<string, string>(nameof(IChatClient.UserJoined), (room, user) => Enqueue(() => AsyncEvents.RaiseAsync(UserJoined, room, user)));
        _connection.On<string, string>(nameof(IChatClient.UserLeft), (room, user) => Enqueue(() => AsyncEvents.RaiseAsync(UserLeft, room, user)));
        _connection.On<PrivateChatMessage>(nameof(IChatClient.PrivateMessage), message => Enqueue(() => ReceivePrivateAsync(message)));
        _connection.On<ModerationNotice>(nameof(IChatClient.MessageModerated), notice => Enqueue(() => AcceptNoticeAsync(notice)));
        // Each transition is reported with its own state: by the time the queue gets to it the connection may be
        // back already (the proxy hands a reconnect to a live replica in a fraction of a second).
        _connection.Reconnecting += error => Enqueue(() => RaiseStateChanged(HubConnectionState.Reconnecting, error));
        _connection.Reconnected += _ =>
        {
            _rejoining = true;
            return Enqueue(RejoinAndFillAsync);
        };
        _connection.Closed += error =>
        {
            _closed.TrySetResult(error);
            return Enqueue(() => RaiseStateChanged(HubConnectionState.Disconnected, GaveUp(error) ?? error));
        };
        _worker = Task.Run(RunWorkAsync);
    }

    // A reconnect runs in the flow of the connection's loops, which the first connect started: inside the trace of
    // whoever started it (a sign-in, long over), where its token request and WebSocket request would be added one
    // break after another. The socket is configured in the same async method that then asks for the token and
    // connects (OpenWebSocketAsync), so clearing the current span here clears it for those two, and only for them.
    // What a recovery does that matters, the rejoin, has a trace of its own (ChatClientTelemetry.StartRejoin).
    private void LeaveTheStartersTraceOnReconnect()
    {
        if (_connection.State == HubConnectionState.Reconnecting)
        {
            Activity.Current = null;
        }
    }

    // Every connection attempt, a start's or a reconnect try's, gets a bound for its token and its WebSocket's
    // opening: SignalR's reconnect loop gives its tries no timeout, so a try that reached a replica or proxy which
    // accepts and never answers held the client Reconnecting for as long as that lasted. A reconnect try gets at most
    // a start try's patience, after QuickReconnectTries tries ReconnectTryPatience: behind a proxy the next try may
    // reach a live replica (with two of three replicas frozen, 30 s tries, four in the policy's two minutes, all met
    // frozen ones about one break in five; a 10 s first try held a page 10 s where the next was back at once), and
    // the later tries are given longer in case the replicas are only slow (a crowd reconnecting).
    private async ValueTask<WebSocket> OpenWithinConnectTimeoutAsync(
        Func<WebSocketConnectionContext, CancellationToken, ValueTask<WebSocket>> open, WebSocketConnectionContext context, CancellationToken cancellationToken)
    {
        // Numbered, so that a try given up here that reaches a slow or frozen replica after the client connected
        // elsewhere is refused by the gateway instead of replacing the later connection (ChatHubPaths.AttemptParameter).
        context = new WebSocketConnectionContext(WithParameter(context.Uri, ChatHubPaths.AttemptParameter, NextAttempt().ToString(CultureInfo.InvariantCulture)), context.Options);
        var tryPatience = (_lastRetry?.PreviousRetryCount ?? 0) < QuickReconnectTries ? StartTryPatience : ReconnectTryPatience;
        var bound = _connection.State == HubConnectionState.Reconnecting && tryPatience < _connectTimeout ? tryPatience : _connectTimeout;
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(bound);
        try
        {
            return await open(context, patience.Token);
        }
        catch (OperationCanceledException) when (patience.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw DidNotAnswer(bound);
        }
    }

    private static readonly TimeSpan ReconnectTryPatience = TimeSpan.FromSeconds(10);

    // The clock's milliseconds, or one more than the last: rising across client objects that share a caller's client
    // id too (a new object's first attempt must come after the old one's last).
    private long NextAttempt()
    {
        lock (_attemptLock)
        {
            return _attempt = Math.Max(_attempt + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
    }

    private readonly Lock _attemptLock = new();
    private long _attempt;
    private const int QuickReconnectTries = 2;

    // What SignalR's own WebSocket factory does (it is not public, and a factory given replaces it whole): the
    // connection options' headers, cookies, credentials, proxy and socket settings, then the token as a bearer header.
    private static async ValueTask<WebSocket> OpenWebSocketAsync(WebSocketConnectionContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.SetRequestHeader("User-Agent", UserAgent);
            // Asks an authentication handler for a 401 rather than a redirect to a sign-in page, as SignalR's does.
            socket.Options.SetRequestHeader("X-Requested-With", "XMLHttpRequest");
            foreach (var (name, value) in options.Headers)
            {
                socket.Options.SetRequestHeader(name, value);
            }

            if (options.Cookies is { } cookies)
            {
                socket.Options.Cookies = cookies;
            }

            if (options.ClientCertificates is { } certificates)
            {
                socket.Options.ClientCertificates.AddRange(certificates);
            }

            if (options.Credentials is { } credentials)
            {
                socket.Options.Credentials = credentials;
            }

            if (options.Proxy is { } proxy)
            {
                socket.Options.Proxy = proxy;
            }

            if (options.UseDefaultCredentials is { } useDefaultCredentials)
            {
                socket.Options.UseDefaultCredentials = useDefaultCredentials;
            }

            options.WebSocketConfiguration?.Invoke(socket.Options);
            if (options.AccessTokenProvider is { } tokens && await tokens().WaitAsync(cancellationToken) is { Length: > 0 } token)
            {
                socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
            }

            await socket.ConnectAsync(context.Uri, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // What the gateway's connect span records as the client: the library, the platform and the runtime (as SignalR's
    // said), not the OS's full description (a kernel build string).
    private static readonly string UserAgent =
        $"RealtimeDemo.Client/{typeof(ChatClient).Assembly.GetName().Version?.ToString(3)} ({System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}; .NET {Environment.Version})";

    private HubException DidNotAnswer(TimeSpan waited, int tries = 1) =>
        new($"The chat at {_hubUrl.GetLeftPart(UriPartial.Path)} did not answer within {waited.TotalSeconds:0.#} s{(tries > 1 ? $" ({tries} tries)" : "")}: "
            + "something there accepts connections but answers none (a stuck gateway or proxy). Try again in a moment.");

    /// <summary>Each room message once, in the room's order.</summary>
    public event Func<ChatMessage, Task>? MessageReceived;

    public event Func<string, string, Task>? UserJoined;

    public event Func<string, string, Task>? UserLeft;

    public event Func<PrivateChatMessage, Task>? PrivateMessageReceived;

    /// <summary>The worker moderated a room message (it may already have been shown).</summary>
    public event Func<ModerationNotice, Task>? MessageModerated;

    /// <summary>
    /// The room's storage lost its earlier history (its epoch changed) after this client showed some of it: sequences
    /// start again at 1 and what is still kept follows through <see cref="MessageReceived"/>. A page shows where the
    /// break is. (A new epoch of a room the client showed nothing of is taken silently.)
    /// </summary>
    public event Func<string, Task>? RoomReset;

    /// <summary>
    /// Messages of a room this client cannot show, with how many: they were sent while it was away (disconnected,
    /// paused) and the room's history no longer keeps them (<c>Chat:History:MaxMessagesPerRoom</c>). Raised before
    /// the first message after them reaches <see cref="MessageReceived"/>, so a page can show where the gap is.
    /// </summary>
    public event Func<string, long, Task>? MessagesMissed;

    /// <summary>
    /// The connection state changed, in order, each transition once (Connected is raised after a reconnect has tried
    /// every room: rejoined it and filled its gap, or reported it through <see cref="BackgroundError"/> to retry it
    /// later); the exception says why it dropped or closed, when it did (a reason the server gave, as
    /// its sentence alone).
    /// </summary>
    public event Func<HubConnectionState, Exception?, Task>? StateChanged;

    /// <summary>A call made on the client's behalf (rejoin, gap fill) failed; the client keeps going (a <see cref="RoomRejoinException"/> says which room).</summary>
    public event Func<Exception, Task>? BackgroundError;

    /// <summary>The connection's state; Reconnecting until its rooms are rejoined after a (re)connect.</summary>
    public HubConnectionState State =>
        _rejoining && _connection.State == HubConnectionState.Connected ? HubConnectionState.Reconnecting : _connection.State;

    /// <summary>The underlying connection, for calls this class does not wrap.</summary>
    public HubConnection Connection => _connection;

    /// <summary>
    /// Connects, and returns once the gateway has let the connection in, with what it said of the connection (its
    /// id, user and replica; null in the rare case it let it in but refused that one call, at a rate limit): a
    /// refusal (a connection limit) throws a <see cref="HubException"/> with the gateway's sentence. Rooms joined
    /// before a reconnect given up are rejoined, and what was sent meanwhile delivered, before Connected is reported.
    /// </summary>
    public async Task<ConnectionDetails?> StartAsync(CancellationToken cancellationToken = default)
    {
        var details = await ConnectInTriesAsync(admit: true, cancellationToken);
        // Through the queue, like every other transition, and only if still connected: a close right after (a break)
        // is queued by then, and reported after this would leave a page saying "Connected".
        await Serialized(() => _rooms.Count > 0 ? RejoinAndFillAsync()
            : _connection.State == HubConnectionState.Connected ? RaiseStateChanged(HubConnectionState.Connected, null)
            : Task.CompletedTask);
        return details;
    }

    /// <summary>
    /// Closes the connection but keeps its rooms and where each stood: the server sees the user leave.
    /// <see cref="ResumeAsync"/> connects again, rejoins them and delivers what was sent meanwhile.
    /// </summary>
    public Task PauseAsync(CancellationToken cancellationToken = default) => _connection.StopAsync(cancellationToken);

    /// <summary>
    /// After <see cref="PauseAsync"/>: connects (in tries, as <see cref="StartAsync"/> does), rejoins every room and fills its gap, then reports Connected. A
    /// connection the server closes at once (a refusal) is reported Disconnected, with its reason, instead.
    /// </summary>
    public async Task ResumeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await ConnectInTriesAsync(admit: false, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            ChatClientTelemetry.ResumeFailed(ex);
            throw;
        }

        await Serialized(RejoinAndFillAsync);
    }

    // A start's try (its token, WebSocket and handshake) gets StartTryPatience, the last one what is left of the
    // connect timeout, and one not answered in time is made again: behind a proxy that picks a replica per
    // connection the next may reach a live one, where a try that met a frozen replica held the start for the whole
    // timeout (the Blazor sign-in failed six times in eight with one replica of three frozen). A resume is not
    // admitted here: a refusal then closes the connection, and the close is reported with its reason.
    private async Task<ConnectionDetails?> ConnectInTriesAsync(bool admit, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        for (var tries = 1; ; tries++)
        {
            var left = _connectTimeout - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw DidNotAnswer(_connectTimeout, tries - 1); // the last try's ending (a socket to a frozen replica) took the rest
            }

            _closed = NewClosedSignal();
            var last = left <= 2 * StartTryPatience;
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            patience.CancelAfter(last ? left : StartTryPatience);
            try
            {
                await _connection.StartAsync(patience.Token);
            }
            catch (OperationCanceledException) when (patience.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                if (!last)
                {
                    continue;
                }

                throw DidNotAnswer(_connectTimeout, tries);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw await ConnectFailureInOurWordsAsync(ex, cancellationToken);
            }

            if (!admit)
            {
                return null;
            }

            // Answered: a live replica has the connection. Its admission can wait for that replica's storage (while
            // Redis is out of reach, a few seconds, then a refusal in the gateway's words): it gets what is left of
            // the timeout, and is not tried again.
            // (Its own bound: the try's may have run out just after the handshake's answer.)
            var rest = _connectTimeout - Stopwatch.GetElapsedTime(started);
            using var admission = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            admission.CancelAfter(rest > StartTryPatience ? rest : StartTryPatience);
            try
            {
                return await AdmittedAsync(admission.Token);
            }
            catch (OperationCanceledException) when (admission.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                await _connection.StopAsync(CancellationToken.None); // open, and its admission never answered
                throw DidNotAnswer(_connectTimeout, tries);
            }
        }
    }

    private static readonly TimeSpan StartTryPatience = TimeSpan.FromSeconds(3);

    // The gateway answers the handshake before it decides whether to keep the connection (the limits are checked once
    // it is open, so that a browser can be told why), and it answers calls only after deciding: one round trip tells.
    // A refusal closes the connection, failing the call with the gateway's sentence.
    private async Task<ConnectionDetails?> AdmittedAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _connection.InvokeAsync<ConnectionDetails>(ChatHubMethods.GetConnectionInfo, cancellationToken);
        }
        catch (HubException ex) when (!ex.Message.StartsWith(ServerClosedPrefix, StringComparison.Ordinal))
        {
            // Answered, even if with a refusal of the call itself (a rate limit): the connection was let in.
            return null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // A refusal can close the connection before the call goes out, which then fails with SignalR's "not
            // active" sentence (about one start in 25 on a busy machine); the close carries the gateway's, a moment behind.
            var first = await Task.WhenAny(_closed.Task, Task.Delay(CloseReasonPatience, cancellationToken));
            throw InOurWords(first == _closed.Task ? await _closed.Task ?? ex : ex, _hubUrl);
        }
    }

    // A WebSocket the gateway refused tells the client only its status; the gateway says why (an expired token, a
    // forged one) in the answer's body, which a WebSocket cannot read. So the same request is made again as a plain
    // GET, with the same token, to read it.
    private async Task<Exception> ConnectFailureInOurWordsAsync(Exception error, CancellationToken cancellationToken)
    {
        if (error is System.Net.WebSockets.WebSocketException { WebSocketErrorCode: System.Net.WebSockets.WebSocketError.NotAWebSocket })
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, _hubUrl);
                if (_lastToken is { } token)
                {
                    request.Headers.Authorization = new("Bearer", token);
                }

                using var answer = await RefusalReader.SendAsync(request, cancellationToken);
                var sentence = answer.Content.Headers.ContentType?.MediaType == "text/plain" ? (await answer.Content.ReadAsStringAsync(cancellationToken)).Trim() : "";
                if (answer.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden && sentence.Length is > 0 and <= LongestSentence)
                {
                    return new HubException(sentence, error);
                }
            }
            catch (Exception probe) when (probe is HttpRequestException or TaskCanceledException)
            {
                // Not reachable over plain HTTP (a test server's own sockets, a proxy): the status alone is told.
            }
        }

        return InOurWords(error, _hubUrl);
    }

    private const int LongestSentence = 1_000;
    private static readonly HttpClient RefusalReader = new() { Timeout = TimeSpan.FromSeconds(5) };

    public Task<ConnectionDetails> GetConnectionInfoAsync() =>
        CallAsync<ConnectionDetails>(ChatHubMethods.GetConnectionInfo);

    /// <summary>Joins the room; it is rejoined after every reconnect until <see cref="LeaveRoomAsync"/>.</summary>
    public async Task<JoinRoomResult> JoinRoomAsync(string room)
    {
        // The server delivers the room's messages from the moment it admits the join, before its reply arrives:
        // hold those until the reply says where the room stood.
        await Serialized(() =>
        {
            if (!_rooms.ContainsKey(room))
            {
                _joining.TryAdd(room, []);
            }

            return Task.CompletedTask;
        });

        JoinRoomResult joined;
        try
        {
            joined = await CallAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, room);
        }
        catch
        {
            await Serialized(() => Task.FromResult(_joining.Remove(room)));
            throw;
        }

        await Serialized(async () =>
        {
            if (!_joining.Remove(room, out var held))
            {
                return; // already joined: its position stands
            }

            // History before the join is the caller's to read; live messages continue from here.
            _rooms[room] = new RoomPosition(joined.LastMessageId, joined.LastSequence, joined.Epoch);
            foreach (var message in held.OrderBy(m => m.Sequence))
            {
                await AcceptAsync(message);
            }
        });
        return joined;
    }

    /// <summary>
    /// Leaves the room. It is forgotten here first (a rejoin or a resync racing the leave would join it again on the
    /// server); a leave the server refuses on a connection still open (too many room changes) puts it back, as the
    /// connection is still a member: call it again later. A room the server does not count this connection in has
    /// been left already.
    /// </summary>
    public async Task LeaveRoomAsync(string room)
    {
        RoomPosition? held = null;
        string? connectionId = null;
        await Serialized(() =>
        {
            held = _rooms.Remove(room, out var position) ? position : null;
            _joining.Remove(room);
            connectionId = _connection.ConnectionId;
            return Task.CompletedTask;
        });

        try
        {
            await CallAsync<object?>(ChatHubMethods.LeaveRoom, room);
        }
        catch (HubException ex) when (ex.Message.Contains(ChatHubMethods.NotInRoomRefusal, StringComparison.Ordinal))
        {
        }
        catch (HubException) when (held is { } position)
        {
            // What arrived meanwhile was dropped; the next message's sequence jump fills the gap.
            await Serialized(() =>
            {
                if (_connection.State == HubConnectionState.Connected && _connection.ConnectionId == connectionId)
                {
                    _rooms.TryAdd(room, position);
                }

                return Task.CompletedTask;
            });
            throw;
        }
    }

    public Task<MessageAck> SendMessageAsync(string room, string clientMessageId, string text) =>
        CallAsync<MessageAck>(ChatHubMethods.SendMessage, room, clientMessageId, text);

    /// <summary>
    /// Whether a failed <see cref="SendMessageAsync"/> may have stored the message after all: a call not answered that
    /// may have been done, or the gateway's answer that its storage was out of reach (a write that timed out may still
    /// have been done) or that it failed unexpectedly. Such a message is to be resent with the same clientMessageId
    /// only, never as a new message; a refusal (a rule, a limit) was not stored.
    /// </summary>
    public static bool MayHaveBeenStored(Exception error) => error switch
    {
        CallNotAnsweredException notAnswered => notAnswered.MayHaveBeenDone,
        HubException answered => answered.Message.StartsWith(ChatHubMethods.StorageUnavailableRefusal, StringComparison.Ordinal)
            || answered.Message.StartsWith(ChatHubMethods.ServerFailure, StringComparison.Ordinal),
        _ => true, // a failure of SignalR's own that escaped the mapping: nothing says the call was not made
    };

    public Task<PrivateMessageAck> SendPrivateMessageAsync(string toUser, string text) =>
        CallAsync<PrivateMessageAck>(ChatHubMethods.SendPrivateMessage, toUser, text);

    public Task<RoomStats> GetRoomStatsAsync(string room) =>
        CallAsync<RoomStats>(ChatHubMethods.GetRoomStats, room);

    public Task<IReadOnlyList<ChatMessage>> GetRecentMessagesAsync(string room, int limit) =>
        CallAsync<IReadOnlyList<ChatMessage>>(ChatHubMethods.GetRecentMessages, room, limit);

    /// <summary>
    /// Up to <paramref name="limit"/> stored messages before <paramref name="beforeMessageId"/>, oldest first (for "show
    /// older"); fewer when their texts reach <see cref="HistoryPages.MaxTextLength"/> (<see cref="HistoryPages.IsLast"/> tells the last page).
    /// </summary>
    public Task<IReadOnlyList<ChatMessage>> GetOlderMessagesAsync(string room, string beforeMessageId, int limit) =>
        CallAsync<IReadOnlyList<ChatMessage>>(ChatHubMethods.GetOlderMessages, room, beforeMessageId, limit);

    public Task<IReadOnlyList<string>> GetRoomMembersAsync(string room) =>
        CallAsync<IReadOnlyList<string>>(ChatHubMethods.GetRoomMembers, room);

    public Task<IReadOnlyList<RoomSummary>> ListRoomsAsync(int limit) =>
        CallAsync<IReadOnlyList<RoomSummary>>(ChatHubMethods.ListRooms, limit);

    public Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(string room, string? afterMessageId, int limit) =>
        CallAsync<IReadOnlyList<ChatMessage>>(ChatHubMethods.GetMessages, room, afterMessageId, limit);

    private async Task AcceptAsync(ChatMessage message)
    {
        if (_joining.TryGetValue(message.Room, out var held))
        {
            if (held.Count < HeldWhileJoiningLimit)
            {
                held.Add(message); // past the limit, the sequence jump fills the gap
            }

            return;
        }

        if (!_rooms.TryGetValue(message.Room, out var position))
        {
            return; // not (or no longer) in the room
        }

        switch (position.Judge(message))
        {
            case Arrival.OtherEpoch:
                await ResyncAsync(message.Room);
                return;
            case Arrival.Repeat:
                return;
            case Arrival.AfterGap:
                await FillGapAsync(message.Room, ChatClientTelemetry.GapReasons.MissedDelivery);
                break;
        }

        if (_rooms.TryGetValue(message.Room, out position) && position.IsBehind(message))
        {
            await DeliverAsync(message, fromHistory: false);
        }
    }

    /// <summary>
    /// A message of another epoch: asks the server (JoinRoom, which a member may repeat) which epoch the room is
    /// in. A late message of an older one is dropped; a new one means the storage lost the room's counter: the
    /// position starts over and what is kept of the new epoch is filled from the start of the history.
    /// </summary>
    private async Task ResyncAsync(string room)
    {
        var current = await InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, room);
        if (!_rooms.TryGetValue(room, out var position) || current.Epoch == position.Epoch)
        {
            return;
        }

        await StartOverAsync(room, current.Epoch);
    }

    // A room of which this client showed nothing lost nothing it knew of: a room nobody wrote in gets a new epoch
    // when its counter expires an hour after its last member left (a laptop asleep in it), so no reset is announced.
    private async Task StartOverAsync(string room, long epoch)
    {
        var showedAny = _rooms.TryGetValue(room, out var old) && old.Sequence > 0;
        _rooms[room] = new RoomPosition(null, 0, epoch);
        if (showedAny)
        {
            await AsyncEvents.RaiseAsync(RoomReset, room);
        }

        await FillGapAsync(room, ChatClientTelemetry.GapReasons.StorageReset);
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

        return AsyncEvents.RaiseAsync(MessageModerated, notice);
    }

    private async Task ReceivePrivateAsync(PrivateChatMessage message)
    {
        using var activity = ChatClientTelemetry.StartReceive(message);
        await AsyncEvents.RaiseAsync(PrivateMessageReceived, message);
    }

    // A connection closed before or during the rejoin (a refusal right after the handshake, a break) has its own
    // transition in the queue, which says why; the next reconnect rejoins. Reporting Connected after it, or failing
    // the caller of ResumeAsync as if the gateway had not answered, would hide that reason.
    // Until it is done the client is not Connected (State), and refuses the application's calls as while
    // reconnecting: the server would refuse those for rooms not rejoined yet ("Join room … before …").
    private async Task RejoinAndFillAsync()
    {
        if (_connection.State != HubConnectionState.Connected)
        {
            _rejoining = false;
            return;
        }

        _rejoining = true;
        using var activity = ChatClientTelemetry.StartRejoin(_rooms.Count);
        try
        {
            await RejoinAsync([.. _rooms.Keys], attempt: 1);
        }
        catch (Exception) when (_connection.State != HubConnectionState.Connected)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "the connection closed during the rejoin");
            return;
        }
        finally
        {
            _rejoining = false;
        }

        await RaiseStateChanged(HubConnectionState.Connected, null);
    }

    /// <summary>
    /// Rejoins each room and fills its gap. A room that fails does not stop the others: it is reported, counted,
    /// and tried again a little later; after <see cref="RejoinAttempts"/> failures it is given up (reported so).
    /// </summary>
    private async Task RejoinAsync(IReadOnlyList<string> rooms, int attempt)
    {
        var failed = new List<string>();
        foreach (var room in rooms.Where(_rooms.ContainsKey))
        {
            try
            {
                var joined = await InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, room);
                if (_rooms.TryGetValue(room, out var position) && joined.Epoch != position.Epoch)
                {
                    await StartOverAsync(room, joined.Epoch);
                }
                else
                {
                    await FillGapAsync(room, ChatClientTelemetry.GapReasons.Reconnect);
                }
            }
            catch (Exception ex) when (_connection.State == HubConnectionState.Connected)
            {
                ChatClientTelemetry.RejoinFailed(ex);
                var retry = attempt < RejoinAttempts;
                if (retry)
                {
                    failed.Add(room);
                }
                else
                {
                    _rooms.Remove(room);
                }

                await RaiseBackgroundError(new RoomRejoinException(room, retry, ex));
            }
        }

        if (failed.Count > 0)
        {
            // Later, through the work queue; a reconnect meanwhile rejoins every room anyway.
            _ = Task.Delay(FirstRejoinRetry * Math.Pow(2, attempt - 1)).ContinueWith(
                _ => Enqueue(async () =>
                {
                    if (_connection.State == HubConnectionState.Connected)
                    {
                        using var activity = ChatClientTelemetry.StartRejoin(failed.Count);
                        await RejoinAsync(failed, attempt + 1);
                    }
                }),
                TaskScheduler.Default);
        }
    }

    /// <summary>Delivers every stored message of the room's epoch after the last one shown (<see cref="HistoryGapFiller"/>).</summary>
    private async Task FillGapAsync(string room, string reason)
    {
        ChatClientTelemetry.GapFilled(reason);
        using var activity = ChatClientTelemetry.StartGapFill(room, reason);
        await HistoryGapFiller.RunAsync(
            () => _rooms.TryGetValue(room, out var position) ? position : null,
            after => InvokeAsync<IReadOnlyList<ChatMessage>>(ChatHubMethods.GetMessages, room, after, GapFillPageSize),
            message => DeliverAsync(message, fromHistory: true),
            GapFillPageSize);
    }

    private async Task DeliverAsync(ChatMessage message, bool fromHistory)
    {
        // Gaps are filled before a message is shown, so a jump left here is what the history no longer keeps.
        if (_rooms.TryGetValue(message.Room, out var position) && position.Judge(message) == Arrival.AfterGap)
        {
            var missed = message.Sequence - position.Sequence - 1;
            ChatClientTelemetry.MessagesMissed(missed);
            await AsyncEvents.RaiseAsync(MessagesMissed, message.Room, missed);
        }

        _rooms[message.Room] = RoomPosition.After(message);
        using var activity = ChatClientTelemetry.StartReceive(message, fromHistory);
        await AsyncEvents.RaiseAsync(MessageReceived, message);
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
        // The work here serves no one caller: it must not join the trace of whoever created this client.
        Activity.Current = null;
        await foreach (var work in _work.Reader.ReadAllAsync())
        {
            try
            {
                await work();
            }
            catch (Exception ex)
            {
                await RaiseBackgroundError(ex);
            }
        }
    }

    private async Task RaiseBackgroundError(Exception error)
    {
        try
        {
            await AsyncEvents.RaiseAsync(BackgroundError, error);
        }
        catch (Exception)
        {
            // A failing error handler must not stop the delivery loop.
        }
    }

    // A random id for this client object, on every connection it makes: a reconnect then replaces a connection that
    // broke without the gateway hearing of it, which would otherwise count against the user's limit until the
    // gateway's client timeout (a user at the limit could not get back in). Not stored: a copy of a tab gets its own.
    private static Uri WithClientId(Uri hubUrl)
    {
        if (Carries(hubUrl, ChatHubPaths.ClientIdParameter))
        {
            return hubUrl; // the caller named it
        }

        return WithParameter(hubUrl, ChatHubPaths.ClientIdParameter, Guid.NewGuid().ToString("N"));
    }

    // By whole name, as the gateway reads the query: a "reattempt=" is not an attempt.
    private static bool Carries(Uri address, string name) =>
        address.Query.TrimStart('?').Split('&').Any(pair =>
            string.Equals(Uri.UnescapeDataString(pair.Split('=', 2)[0].Replace('+', ' ')), name, StringComparison.OrdinalIgnoreCase));

    private static Uri WithParameter(Uri address, string name, string value)
    {
        var builder = new UriBuilder(address);
        var parameter = $"{name}={value}";
        builder.Query = builder.Query.Length > 1 ? $"{builder.Query[1..]}&{parameter}" : parameter;
        return builder.Uri;
    }

    // Connected once per connection: a break and a reconnect before StartAsync's report ran would report it twice.
    private Task RaiseStateChanged(HubConnectionState state, Exception? error)
    {
        if (state == HubConnectionState.Connected && _reported == HubConnectionState.Connected)
        {
            return Task.CompletedTask;
        }

        _reported = state;
        return AsyncEvents.RaiseAsync(StateChanged, state, InServerWords(error));
    }

    /// <summary>The application's call: refused, as without a connection, while the rooms are rejoined.</summary>
    private async Task<T> CallAsync<T>(string method, params object?[] args) =>
        _rejoining ? throw NotConnected(method, "rejoining its rooms") : await InvokeAsync<T>(method, args);

    // SignalR's own sentence names its internals ("The 'InvokeCoreAsync' method cannot be called if the connection
    // is not active"); pages show this one.
    private static CallNotAnsweredException NotConnected(string method, string state) =>
        new(method, mayHaveBeenDone: false, $"Not connected to the chat ({state}): {method} was not sent. {RetryAdvice(method)}");

    private static string RetryAdvice(string method) =>
        (method == ChatHubMethods.SendMessage ? "Resend it with the same clientMessageId" : "Call it again") + " once connected.";

    /// <summary>A call the server's close cut short fails with the server's reason in its words, like <see cref="StateChanged"/>.</summary>
    private async Task<T> InvokeAsync<T>(string method, params object?[] args)
    {
        if (_connection.State != HubConnectionState.Connected)
        {
            throw NotConnected(method, _connection.State.ToString().ToLowerInvariant());
        }

        var connectionId = _connection.ConnectionId;
        try
        {
            return await _connection.InvokeCoreAsync<T>(method, args);
        }
        catch (HubException ex) when (ex.Message.StartsWith(ServerClosedPrefix, StringComparison.Ordinal))
        {
            // The server's close cut the call short: its reason, in its words; unlike a refusal, worth making again.
            throw new CallNotAnsweredException(method, mayHaveBeenDone: true, InServerWords(ex)!.Message, ex) { ClosedByServer = true };
        }
        catch (Exception ex) when (ex is not HubException && BrokeUnder(ex, connectionId))
        {
            // SignalR fails a call whose connection went with the transport's or its own exception (a TimeoutException
            // when the server fell silent, a WebSocketException, an ObjectDisposedException, a TaskCanceledException):
            // a caller that catches what a broken connection throws otherwise (InvalidOperationException, as before a
            // call) catches this too.
            throw new CallNotAnsweredException(method, mayHaveBeenDone: true,
                $"The connection broke before the chat answered {method}, which may or may not have been done. {RetryAdvice(method)}", ex);
        }
    }

    private bool BrokeUnder(Exception error, string? connectionId) =>
        error is TimeoutException or OperationCanceledException or IOException or System.Net.WebSockets.WebSocketException
            or ObjectDisposedException // the send itself, when the socket was aborted a moment before the client noticed
        || _connection.State != HubConnectionState.Connected || _connection.ConnectionId != connectionId;

    private static readonly TimeSpan CloseReasonPatience = TimeSpan.FromSeconds(5);

    private static TaskCompletionSource<Exception?> NewClosedSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private const string ServerClosedPrefix = "The server closed the connection with the following error: ";
    private const string SignalRGaveUp = "Reconnect retries have been exhausted";

    // SignalR's own sentence on giving up names neither why the tries failed nor the elapsed time in seconds.
    private ReconnectGaveUpException? GaveUp(Exception? error) =>
        error is OperationCanceledException && error.Message.StartsWith(SignalRGaveUp, StringComparison.Ordinal) && _lastRetry is { } retry
            ? new ReconnectGaveUpException((int)retry.PreviousRetryCount, retry.ElapsedTime, InOurWords(retry.RetryReason, _hubUrl))
            : null;

    /// <summary>Why a connection attempt failed: the server's sentence when it gave one, else ours.</summary>
    private static Exception InOurWords(Exception? error, Uri hubUrl)
    {
        var where = hubUrl.GetLeftPart(UriPartial.Path);
        return InServerWords(error) switch
        {
            HubException server => server,
            System.Net.WebSockets.WebSocketException { WebSocketErrorCode: System.Net.WebSockets.WebSocketError.NotAWebSocket } refused =>
                new HubException($"The chat at {where} refused the WebSocket: the token is expired or not one it accepts, or a proxy between does not pass WebSockets.", refused),
            { } other when other is System.Net.WebSockets.WebSocketException or HttpRequestException or System.Net.Sockets.SocketException =>
                new HubException($"Could not reach the chat at {where}: nothing answered there (the gateway is down, or the address is wrong).", other),
            var other => other ?? new HubException("The connection to the chat broke."),
        };
    }

    /// <summary>
    /// A close the server gave a reason for reaches the handlers as the server's sentence alone ("Too many connections
    /// for this user …"), without the SignalR client's preamble, so a page can show it as it is.
    /// </summary>
    private static Exception? InServerWords(Exception? error) =>
        error is HubException { Message: var message } && message.StartsWith(ServerClosedPrefix, StringComparison.Ordinal)
            ? new HubException(message[ServerClosedPrefix.Length..], error)
            : error;

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _work.Writer.TryComplete();
        await _worker;
    }

}

/// <summary>
/// The client stopped reconnecting, its policy having given up (<see cref="ChatClient.StateChanged"/>, Disconnected):
/// <see cref="ChatClient.StartAsync"/> connects again. The inner exception is why the last try failed.
/// </summary>
public sealed class ReconnectGaveUpException(int tries, TimeSpan elapsed, Exception lastFailure)
    : Exception($"Gave up reconnecting to the chat after {tries} {(tries == 1 ? "try" : "tries")} in {elapsed.TotalSeconds:0} s: {lastFailure.Message}", lastFailure)
{
    public int Tries { get; } = tries;

    public TimeSpan Elapsed { get; } = elapsed;
}

/// <summary>
/// A call the chat did not answer for want of a connection (a refusal is a <see cref="HubException"/> in the gateway's
/// words): not sent, as no connection was there (<see cref="MayHaveBeenDone"/> false), or cut short by a break or the
/// server's close (true; the message is the server's reason when it gave one). Make it again once connected: a send
/// with the same clientMessageId is stored once whatever happened to the first. An InvalidOperationException, as
/// SignalR's own refusal of a call without a connection is.
/// </summary>
public sealed class CallNotAnsweredException(string method, bool mayHaveBeenDone, string message, Exception? inner = null)
    : InvalidOperationException(message, inner)
{
    public string Method { get; } = method;

    public bool MayHaveBeenDone { get; } = mayHaveBeenDone;

    /// <summary>The server's close cut the call short (a drain, an expired token): the message is its reason.</summary>
    public bool ClosedByServer { get; init; }
}

/// <summary>The application's reconnect policy, noting what it was last asked.</summary>
internal sealed class RecordingRetries(IRetryPolicy policy, Action<RetryContext> record) : IRetryPolicy
{
    public TimeSpan? NextRetryDelay(RetryContext retryContext)
    {
        record(retryContext);
        return policy.NextRetryDelay(retryContext);
    }
}

/// <summary>Rejoining <see cref="Room"/> after a reconnect failed; <see cref="WillRetry"/> says whether the client tries again or has given the room up.</summary>
public sealed class RoomRejoinException(string room, bool willRetry, Exception inner)
    : Exception($"Rejoining room '{room}' failed{(willRetry ? "; retrying" : "; gave up")}: {inner.Message}", inner)
{
    public string Room { get; } = room;

    public bool WillRetry { get; } = willRetry;
}
