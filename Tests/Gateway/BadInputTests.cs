using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>A gateway with two users chatting, who must not notice anything while a third misbehaves.</summary>
public sealed class BystanderFixture : IAsyncLifetime
{
    private BystanderPair _bystanders = null!;

    public GatewayCluster Cluster { get; private set; } = null!;

    public Uri Gateway => Cluster.A.BaseAddress;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Cluster = await GatewayCluster.StartAsync(1, null, ct);
        _bystanders = await BystanderPair.StartAsync(Gateway, Gateway, ct);
    }

    /// <summary>Alice, on the same gateway as the misbehaving client, still reaches Bob.</summary>
    public Task AssertBystandersStillChatAsync() => _bystanders.AssertStillChattingAsync();

    public async ValueTask DisposeAsync()
    {
        await _bystanders.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>At least twenty kinds of bad input: each gets an error that says what is wrong, and the rest of the chat goes on.</summary>
public sealed class BadInputTests(BystanderFixture fixture) : IClassFixture<BystanderFixture>
{
    private static readonly string LongRoom = new('r', 65);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public static TheoryData<string, string> HubMethodCases => new()
    {
        { "join: empty room name", "JoinRoom: 'room' must be 1-64 characters from A-Z, a-z, 0-9" },
        { "join: room name with a space", "JoinRoom: 'room' must be 1-64 characters" },
        { "join: room name of 65 characters", "JoinRoom: 'room' must be 1-64 characters" },
        { "join: null room name", "JoinRoom: 'room' must be 1-64 characters" },
        { "join: room name with non-ASCII letters", "JoinRoom: 'room' must be 1-64 characters" },
        { "send: empty text", "SendMessage: 'text' must be 1-4000 characters and not only whitespace (Chat:Limits:MaxTextLength)" },
        { "send: whitespace-only text", "SendMessage: 'text' must be 1-4000 characters" },
        { "send: text of 4,001 characters", "SendMessage: 'text' must be 1-4000 characters" },
        { "send: null text", "SendMessage: 'text' must be 1-4000 characters" },
        { "send: empty client message id", "SendMessage: 'clientMessageId' must be 1-64 characters" },
        // The sentence named only the length and control characters, not the rule a blank id breaks.
        { "send: client message id of spaces only", "SendMessage: 'clientMessageId' must be 1-64 characters, not only whitespace and without control characters" },
        { "send: client message id of 65 characters", "SendMessage: 'clientMessageId' must be 1-64 characters" },
        { "send: to a room not joined", "Join room 'elsewhere' before sending to it." },
        { "private: to a user connected nowhere", "User 'ghost' is not connected anywhere in the chat." },
        { "private: to an invalid user name", "SendPrivateMessage: 'toUser' must be 1-32 characters" },
        { "history: limit 0", "GetMessages: 'limit' must be 1-200 (Chat:Limits:MaxPageSize)" },
        { "history: limit 201", "GetMessages: 'limit' must be 1-200" },
        { "history: malformed message id", "GetMessages: 'afterMessageId' must be a message id the server returned" },
        { "history: an empty message id", "GetMessages: 'afterMessageId' must be a message id the server returned (like 1764000000000-0), or null to start from the oldest kept message." },
        // 4,001 UTF-16 code units, 2,001 characters to a reader: the sentence says how the length is counted.
        { "send: text of 2,001 emoji", "SendMessage: 'text' must be 1-4000 characters and not only whitespace (Chat:Limits:MaxTextLength); characters are counted in UTF-16 code units, as JavaScript's length counts them (an emoji is 2)." },
        { "history: room not joined", "Join room 'elsewhere' before reading its history or members." },
        { "leave: room not joined", "This connection is not in room 'elsewhere'." },
        { "wrong argument count", "SendMessage: the arguments sent do not fit; it takes (room: string, clientMessageId: string, text: string)." },
        { "wrong argument type", "GetMessages: the arguments sent do not fit; it takes (room: string, afterMessageId: string or null, limit: integer)." },
        { "unknown method", "The chat hub has no method 'DeleteEverything'; it has GetConnectionInfo, GetMessages," },
        { "send: only zero-width characters", "SendMessage: 'text' must be valid Unicode with at least one visible character" },
        { "send: a control character", "SendMessage: 'text' must be valid Unicode with at least one visible character, no control characters" },
        // Shown, it read "evilexe.png".
        { "send: a right-to-left override", "SendMessage: 'text' must be valid Unicode with at least one visible character, no control characters other than tab and line breaks, and none of the bidirectional controls that reorder how text reads (U+202A-U+202E, U+2066-U+2069)." },
        { "join: room named '.'", "JoinRoom: 'room' must be 1-64 characters from A-Z, a-z, 0-9, '-', '_' and '.' (no spaces or accented letters), with at least one letter or digit." },
        { "join: room named '..'", "JoinRoom: 'room' must be 1-64 characters" },
        { "private: to user '..'", "SendPrivateMessage: 'toUser' must be 1-32 characters from A-Z, a-z, 0-9, '-', '_' and '.' (no spaces or accented letters), with at least one letter or digit." },
        { "history: an id with a trailing NUL", "GetMessages: 'afterMessageId' must be a message id the server returned" },
        { "history: an id with a sign", "GetMessages: 'afterMessageId' must be a message id the server returned" },
        { "stats: invalid room name", "GetRoomStats: 'room' must be 1-64 characters" },
        { "history: as a stream", "The chat hub has no streaming methods: call 'GetMessages' with an invocation (message type 1), not a stream invocation (type 4)." },
        { "join: with a stream argument", "The chat hub's methods take no stream arguments: send 'JoinRoom' its arguments in \"arguments\", with no \"streamIds\"." },
    };

    [Theory]
    [MemberData(nameof(HubMethodCases))]
    public async Task A_bad_hub_call_gets_a_clear_error_and_the_connection_stays_open(string @case, string error)
    {
        await using var mallory = await RawHubConnection.ConnectAsync(fixture.Gateway, Unique("mallory"), _ct);
        var hub = mallory.Connection;
        await hub.InvokeAsync<JoinRoomResult>("JoinRoom", "mallorys-room", _ct);

        var refused = await Assert.ThrowsAsync<HubException>(() => @case switch
        {
            "join: empty room name" => hub.InvokeAsync<JoinRoomResult>("JoinRoom", "", _ct),
            "join: room name with a space" => hub.InvokeAsync<JoinRoomResult>("JoinRoom", "two words", _ct),
            "join: room name of 65 characters" => hub.InvokeAsync<JoinRoomResult>("JoinRoom", LongRoom, _ct),
            "join: null room name" => hub.InvokeAsync<JoinRoomResult>("JoinRoom", null, _ct),
            "join: room name with non-ASCII letters" => hub.InvokeAsync<JoinRoomResult>("JoinRoom", "café", _ct),
            "send: empty text" => Send(hub, "mallorys-room", "id-1", ""),
            "send: whitespace-only text" => Send(hub, "mallorys-room", "id-1", " \t\n "),
            "send: text of 4,001 characters" => Send(hub, "mallorys-room", "id-1", new string('x', 4001)),
            "send: null text" => Send(hub, "mallorys-room", "id-1", null),
            "send: empty client message id" => Send(hub, "mallorys-room", "", "hi"),
            "send: client message id of spaces only" => Send(hub, "mallorys-room", "   ", "hi"),
            "send: client message id of 65 characters" => Send(hub, "mallorys-room", new string('i', 65), "hi"),
            "send: to a room not joined" => Send(hub, "elsewhere", "id-1", "hi"),
            "private: to a user connected nowhere" => hub.InvokeAsync<PrivateMessageAck>("SendPrivateMessage", "ghost", "hi", _ct),
            "private: to an invalid user name" => hub.InvokeAsync<PrivateMessageAck>("SendPrivateMessage", "no spaces please", "hi", _ct),
            "history: limit 0" => hub.InvokeAsync<ChatMessage[]>("GetMessages", "mallorys-room", null, 0, _ct),
            "history: limit 201" => hub.InvokeAsync<ChatMessage[]>("GetMessages", "mallorys-room", null, 201, _ct),
            "history: malformed message id" => hub.InvokeAsync<ChatMessage[]>("GetMessages", "mallorys-room", "yesterday", 10, _ct),
            "history: an empty message id" => hub.InvokeAsync<ChatMessage[]>("GetMessages", "mallorys-room", "", 10, _ct),
            "send: text of 2,001 emoji" => Send(hub, "mallorys-room", "id-1", string.Concat(Enumerable.Repeat("\U0001F600", 2001))),
            "history: room not joined" => hub.InvokeAsync<ChatMessage[]>("GetMessages", "elsewhere", null, 10, _ct),
            "leave: room not joined" => hub.InvokeAsync("LeaveRoom", "elsewhere", _ct),
            "wrong argument count" => hub.InvokeAsync<MessageAck>("SendMessage", "mallorys-room", _ct),
            "wrong argument type" => hub.InvokeAsync<ChatMessage[]>("GetMessages", "mallorys-room", null, "ten", _ct),
            "unknown method" => hub.InvokeAsync("DeleteEverything", _ct),
            "stats: invalid room name" => hub.InvokeAsync<RoomStats>("GetRoomStats", "../etc", _ct),
            "send: only zero-width characters" => Send(hub, "mallorys-room", "id-1", "\u200B\u200C\u200D\u2060\uFEFF"),
            "send: a control character" => Send(hub, "mallorys-room", "id-1", "bell\u0007"),
            "send: a right-to-left override" => Send(hub, "mallorys-room", "id-1", "evil\u202Egnp.exe"),
            "join: room named '.'" => hub.InvokeAsync<JoinRoomResult>("JoinRoom", ".", _ct),
            "join: room named '..'" => hub.InvokeAsync<JoinRoomResult>("JoinRoom", "..", _ct),
            "private: to user '..'" => hub.InvokeAsync<PrivateMessageAck>("SendPrivateMessage", "..", "hi", _ct),
            "history: an id with a trailing NUL" => hub.InvokeAsync<ChatMessage[]>("GetMessages", "mallorys-room", "1764000000000-0\0", 10, _ct),
            "history: an id with a sign" => hub.InvokeAsync<ChatMessage[]>("GetMessages", "mallorys-room", "+1764000000000-0", 10, _ct),
            "history: as a stream" => ReadAsStreamAsync(hub),
            "join: with a stream argument" => hub.InvokeAsync<JoinRoomResult>("JoinRoom", "mallorys-room", CompletedStream(), _ct),
            _ => throw new ArgumentOutOfRangeException(nameof(@case)),
        });

        Assert.Contains(error, refused.Message);
        HostileInput.AssertNoInternals(refused.Message);
        Assert.Equal(HubConnectionState.Connected, hub.State);
        Assert.Equal(1, (await Send(hub, "mallorys-room", Guid.NewGuid().ToString("N"), "still here")).Sequence > 0 ? 1 : 0);
        await fixture.AssertBystandersStillChatAsync();
    }

    private async Task ReadAsStreamAsync(HubConnection hub)
    {
        var messages = await hub.StreamAsChannelAsync<ChatMessage>("GetMessages", "mallorys-room", null, 10, _ct);
        await foreach (var _ in messages.ReadAllAsync(_ct))
        {
        }
    }

    // A stream argument with nothing in it: the client sends the invocation with its stream id, then the stream's end.
    private static System.Threading.Channels.ChannelReader<string> CompletedStream()
    {
        var stream = System.Threading.Channels.Channel.CreateUnbounded<string>();
        stream.Writer.Complete();
        return stream.Reader;
    }

    [Fact]
    public async Task The_51st_room_on_one_connection_is_refused_naming_the_limit()
    {
        await using var mallory = await RawHubConnection.ConnectAsync(fixture.Gateway, Unique("mallory"), _ct);
        for (var i = 0; i < 50; i++)
        {
            await mallory.Connection.InvokeAsync<JoinRoomResult>("JoinRoom", $"room-{i}", _ct);
        }

        var refused = await Assert.ThrowsAsync<HubException>(() => mallory.Connection.InvokeAsync<JoinRoomResult>("JoinRoom", "room-50", _ct));

        Assert.Contains("too many rooms (at most 50, Chat:Limits:MaxRoomsPerConnection)", refused.Message);
        await mallory.Connection.InvokeAsync("LeaveRoom", "room-0", _ct);
        await mallory.Connection.InvokeAsync<JoinRoomResult>("JoinRoom", "room-50", _ct);
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task A_flood_of_sends_is_throttled_per_connection_with_a_clear_error_and_the_connection_kept()
    {
        await using var mallory = await RawHubConnection.ConnectAsync(fixture.Gateway, Unique("mallory"), _ct);
        await mallory.Connection.InvokeAsync<JoinRoomResult>("JoinRoom", "flood", _ct);

        var sends = Enumerable.Range(0, 100).Select(i => Send(mallory.Connection, "flood", $"f-{i}", "spam")).ToList();
        var outcomes = await Task.WhenAll(sends.Select(async send => { try { await send; return "ok"; } catch (HubException ex) { return ex.Message; } }));

        var refusals = outcomes.Where(o => o != "ok").ToList();
        Assert.InRange(outcomes.Count(o => o == "ok"), 40, 60); // the burst of 40, plus what refilled meanwhile
        Assert.All(refusals, r => Assert.Contains("Too many messages: at most 20 per second, bursts of 40 (Chat:Limits:MessagesPerSecond, Chat:Limits:MessageBurst)", r));
        await fixture.AssertBystandersStillChatAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(200), _ct);
        await Send(mallory.Connection, "flood", "after-the-flood", "calm again");
    }

    // It advised resending "with the same clientMessageId", which a private message does not have: it is not
    // de-duplicated, so a client following the advice could deliver one twice.
    [Fact]
    public async Task A_flood_of_private_messages_is_refused_with_advice_that_fits_them()
    {
        var hank = Unique("hank");
        await using var mallory = await RawHubConnection.ConnectAsync(fixture.Gateway, Unique("mallory"), _ct);
        await using var recipient = await RawHubConnection.ConnectAsync(fixture.Gateway, hank, _ct);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            try
            {
                await mallory.Connection.InvokeAsync<PrivateMessageAck>(ChatHubMethods.SendPrivateMessage, hank, $"pm {i}", _ct);
                return "ok";
            }
            catch (HubException ex)
            {
                return ex.Message;
            }
        }));

        var refusals = outcomes.Where(o => o != "ok").ToList();
        Assert.NotEmpty(refusals);
        Assert.All(refusals, r => Assert.Equal(
            "Too many messages: at most 20 per second, bursts of 40 (Chat:Limits:MessagesPerSecond, Chat:Limits:MessageBurst). It was not sent: wait a moment and send it again.", r));
    }

    [Fact]
    public async Task A_flood_of_joins_and_leaves_is_throttled_per_connection_with_a_clear_error_and_the_connection_kept()
    {
        await using var mallory = await RawHubConnection.ConnectAsync(fixture.Gateway, Unique("mallory"), _ct);
        var room = Unique("churn");

        // Join, leave, join, leave, … all sent at once (SignalR runs one connection's calls in order): each one that
        // goes through is announced to the room's members.
        var flooding = System.Diagnostics.Stopwatch.StartNew();
        var calls = Enumerable.Range(0, 300).Select(i => mallory.Connection.InvokeAsync(i % 2 == 0 ? "JoinRoom" : "LeaveRoom", room, _ct)).ToList();
        var outcomes = await Task.WhenAll(calls.Select(async call => { try { await call; return "ok"; } catch (HubException ex) { return ex.Message; } }));
        var refilled = (int)Math.Ceiling(5 * flooding.Elapsed.TotalSeconds);

        // Changes (each announced) come in pairs, a join then its leave: at most the burst of 100 (twice the rooms a
        // connection may hold) plus what refilled meanwhile. What changes nothing is not counted: a join while still a
        // member (its leave refused) is answered, and a leave after a refused join is refused as not a member.
        var changes = 2 * outcomes.Where((o, i) => i % 2 == 1 && o == "ok").Count();
        Assert.InRange(changes, 100, 101 + refilled);
        const string Throttled = "Too many joins and leaves: at most 5 per second, bursts of 100 (Chat:Limits:RoomChangesPerSecond; bursts of twice Chat:Limits:MaxRoomsPerConnection)";
        Assert.Contains(outcomes, o => o.Contains(Throttled));
        Assert.All(outcomes.Where(o => o != "ok"), o => Assert.True(o.Contains(Throttled) || o.Contains($"This connection is not in room '{room}'"), o));
        await fixture.AssertBystandersStillChatAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(400), _ct);
        await mallory.Connection.InvokeAsync<JoinRoomResult>("JoinRoom", room, _ct);
    }

    [Fact]
    public async Task A_client_that_reconnects_to_join_again_is_limited_across_its_connections()
    {
        // Each new connection has a fresh connection budget, so this loop would announce joins (and, on closing, leaves)
        // as fast as it can connect; the user's own budget (bursts of twice 50 rooms times 5 connections, 25 a second)
        // stops it, however slowly the machine runs the loop, as long as it joins faster than 25 a second.
        var (user, rooms) = (Unique("looper"), Enumerable.Range(0, 50).Select(i => Unique($"loop{i}")).ToList());
        var (joined, refusals) = (0, new List<string>());
        var looping = System.Diagnostics.Stopwatch.StartNew();
        for (var cycle = 0; cycle < 60 && refusals.Count == 0; cycle++)
        {
            await using var mallory = await RawHubConnection.ConnectAsync(fixture.Gateway, user, _ct);
            foreach (var room in rooms)
            {
                try
                {
                    await mallory.Connection.InvokeAsync<JoinRoomResult>("JoinRoom", room, _ct);
                    joined++;
                }
                catch (HubException ex)
                {
                    refusals.Add(ex.Message);
                }
            }
        }

        var refilled = (int)Math.Ceiling(25 * looping.Elapsed.TotalSeconds);
        Assert.InRange(joined, 500, 501 + refilled);
        Assert.NotEmpty(refusals);
        Assert.All(refusals, r => Assert.Contains("Too many joins by this user across its connections: at most 25 per second, bursts of 500", r));
        await fixture.AssertBystandersStillChatAsync();

        // A user who joins at the budget's pace is not refused.
        await Task.Delay(TimeSpan.FromMilliseconds(100), _ct);
        await using var calm = await RawHubConnection.ConnectAsync(fixture.Gateway, user, _ct);
        await calm.Connection.InvokeAsync<JoinRoomResult>("JoinRoom", rooms[0], _ct);
    }

    [Fact]
    public async Task An_oversized_frame_closes_only_that_connection_and_says_which_limit()
    {
        await using var mallory = await RawHubConnection.ConnectAsync(fixture.Gateway, Unique("mallory"), _ct);
        await mallory.Connection.InvokeAsync<JoinRoomResult>("JoinRoom", "big", _ct);

        await Assert.ThrowsAnyAsync<Exception>(() => Send(mallory.Connection, "big", "huge", new string('x', 40_000)));

        var reason = await mallory.Closed;
        Assert.Contains("A frame was larger than 32768 bytes (Chat:Limits:MaxMessageBytes); the connection is closed.", reason?.Message);
        HostileInput.AssertNoInternals(reason?.Message);
        await fixture.AssertBystandersStillChatAsync();
    }

    // The runtime's WebSocket closes on these itself, before SignalR or our code reads the frame; its close frame
    // carried a status and no reason.
    [Fact]
    public async Task A_text_frame_that_is_not_UTF8_closes_the_connection_saying_so()
    {
        await using var mallory = await RawWebSocketClient.ConnectAsync(fixture.Gateway, TestTokens.Create(Unique("mallory")), _ct);

        await mallory.SendTextFrameAsync([0x7B, 0xC3, 0x28, 0x7D, 0x1E], _ct); // "{", a broken two-byte sequence, "}"

        Assert.True(await mallory.ClosedByServerWithinAsync(TimeSpan.FromSeconds(10)), "the connection stayed open");
        Assert.Equal((WebSocketCloseStatus.InvalidPayloadData,
            "A frame's text was not valid UTF-8 (text frames and close reasons must be); the hub protocol is UTF-8 JSON."), mallory.CloseReceived);
        await fixture.AssertBystandersStillChatAsync();
    }

    public static TheoryData<string, byte> FramesThatBreakTheProtocol => new()
    {
        { "a reserved bit", 0xC1 },       // RSV1 (compression, not agreed) on a text frame
        { "a reserved opcode", 0x83 },
        { "a fragmented ping", 0x09 },    // a control frame without FIN
    };

    [Theory]
    [MemberData(nameof(FramesThatBreakTheProtocol))]
    public async Task A_frame_that_breaks_the_WebSocket_protocol_closes_the_connection_saying_so(string @case, byte firstByte)
    {
        _ = @case;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(fixture.Gateway.Host, fixture.Gateway.Port, _ct);
        var stream = tcp.GetStream();
        var upgrade = $"GET {ChatHubPaths.Hub} HTTP/1.1\r\nHost: {fixture.Gateway.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {TestTokens.Create(Unique("mallory"))}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(upgrade), _ct);
        Assert.StartsWith("HTTP/1.1 101", await ReadHeadAsync(stream));
        // The handshake and the bad frame in one write: the handshake's answer is then on its way out as the
        // WebSocket fails, and must still come before the close, not after it.
        byte[] handshakeThenBadFrame = [.. MaskedFrame(0x81, System.Text.Encoding.UTF8.GetBytes(RawWebSocketClient.Handshake)), .. MaskedFrame(firstByte, "hi"u8.ToArray())];
        await stream.WriteAsync(handshakeThenBadFrame, _ct);

        // Whatever the server sends before its close (the handshake's answer, a ping) comes first; nothing follows the close.
        var received = new MemoryStream();
        var buffer = new byte[4096];
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        patience.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, patience.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // The server may reset the connection once its close has left (a client that broke the protocol is not
            // waited for); what arrived before stays read.
        }

        var close = LastFrame(received.ToArray());
        Assert.Equal(0x88, close[0]);
        Assert.Equal(1002, (close[2] << 8) | close[3]);
        Assert.Equal("A frame broke the WebSocket protocol (RFC 6455): unmasked, a reserved bit or opcode, or a bad control frame.",
            System.Text.Encoding.UTF8.GetString(close.AsSpan(4)));
        await fixture.AssertBystandersStillChatAsync();
    }

    private static async Task<string> ReadHeadAsync(System.Net.Sockets.NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n')
            && await stream.ReadAsync(one) == 1)
        {
            head.Add(one[0]);
        }

        return System.Text.Encoding.ASCII.GetString([.. head]);
    }

    // A client's frame, masked as RFC 6455 requires of clients; payloads under 126 bytes.
    private static byte[] MaskedFrame(byte firstByte, byte[] payload)
    {
        byte[] mask = [0x12, 0x34, 0x56, 0x78];
        return [firstByte, (byte)(0x80 | payload.Length), .. mask, .. payload.Select((b, i) => (byte)(b ^ mask[i % 4]))];
    }

    // The server's frames are unmasked; returns the last whole one.
    private static byte[] LastFrame(byte[] bytes)
    {
        var (start, last) = (0, Array.Empty<byte>());
        while (start + 2 <= bytes.Length)
        {
            var length = bytes[start + 1] & 0x7F;
            var (header, size) = length switch
            {
                126 => (4, (bytes[start + 2] << 8) | bytes[start + 3]),
                127 => throw new InvalidDataException("a frame over 64 KB from the server"),
                _ => (2, length),
            };
            last = bytes[start..(start + header + size)];
            start += header + size;
        }

        return last;
    }

    [Fact]
    public async Task A_sixth_connection_of_one_user_is_refused_naming_the_limit()
    {
        var user = Unique("tabby");
        var connections = new List<RawHubConnection>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                connections.Add(await RawHubConnection.ConnectAsync(fixture.Gateway, user, _ct));
            }

            // A client that reconnects on its own (ours, on SignalR's automatic reconnect) is told not to: a reconnect
            // would be refused again, and it came at once, so the sixth tab cycled about once a second while it was open.
            var states = new System.Collections.Concurrent.ConcurrentQueue<(HubConnectionState State, string? Reason)>();
            var token = await ChatTestClient.GetTokenAsync(fixture.Gateway, user, _ct);
            await using var sixth = new ChatClient(new Uri(fixture.Gateway, ChatHubPaths.Hub), () => Task.FromResult<string?>(token), TimeSpan.FromSeconds(1));
            sixth.StateChanged += (state, error) =>
            {
                states.Enqueue((state, error?.Message));
                return Task.CompletedTask;
            };
            // StartAsync returns only once the gateway has let the connection in: the refusal is its failure.
            const string refusal = "Too many connections for this user (at most 5, Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.";
            var refused = await Assert.ThrowsAsync<HubException>(() => sixth.StartAsync(_ct));
            Assert.Equal(refusal, refused.Message);

            await Eventually.HoldsAsync(() => Task.FromResult(states.Any(s => s.State == HubConnectionState.Disconnected)), ChatTestClient.Delivery,
                () => $"the sixth connection was not closed for good: {states.Count} state changes, the last {string.Join(", ", states.TakeLast(4))}");
            await Task.Delay(TimeSpan.FromSeconds(3), _ct); // a reconnect would have come at once
            // Never reported Connected; the gateway's sentence alone, as a page shows it.
            Assert.Equal([(HubConnectionState.Disconnected, refusal)], states.ToArray());
            Assert.Equal(HubConnectionState.Connected, connections[0].Connection.State);
            await fixture.AssertBystandersStillChatAsync();
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    public static TheoryData<string> RefusedClientIds => ["clientId=short", "clientId=", "clientId=has%20a%20space0", $"clientId={new string('a', 65)}",
        "clientId=aaaaaaaa&clientId=bbbbbbbb", "clientid=%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80"];

    [Theory]
    [MemberData(nameof(RefusedClientIds))]
    public async Task A_connection_with_a_bad_client_id_is_refused_saying_what_one_is(string query)
    {
        await using var mallory = await RawHubConnection.ConnectAsync(fixture.Gateway, Unique("mallory"), _ct, confirm: false, query: query);

        var reason = (await mallory.Closed)?.Message;
        Assert.EndsWith($"The hub address's clientId must be one value of {ChatNames.ClientIdRule}, or left out.", reason);
        HostileInput.AssertNoInternals(reason);
        await fixture.AssertBystandersStillChatAsync();
    }

    // A key long enough for HS256 that the gateway does not have: a token signed with it is well formed and forged.
    private const string ForgedSigningKey = "some-other-key-that-is-also-long-enough-0123";

    public static TheoryData<string> RefusedTokens => ["no token", "expired", "forged", "wrong audience", "wrong issuer", "garbage", "two names"];

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_connection_without_a_valid_token_is_refused(string @case)
    {
        var token = @case switch
        {
            "no token" => null,
            "expired" => TestTokens.Create("mallory", expiresIn: TimeSpan.FromMinutes(-2)),
            "forged" => TestTokens.Create("mallory", signingKey: ForgedSigningKey),
            "wrong audience" => TestTokens.Create("mallory", audience: "another-service"),
            "wrong issuer" => TestTokens.Create("mallory", issuer: "someone-else"),
            "two names" => TestTokens.WithPayload($"\"name\":[\"mallory\",\"alice\"],\"exp\":{DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds()}"),
            _ => "not.a.jwt",
        };
        await using var mallory = RawHubConnection.Create(fixture.Gateway, token);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => mallory.Connection.StartAsync(_ct));

        Assert.Contains("401", refused.Message);
        await fixture.AssertBystandersStillChatAsync();
    }

    // The WebSocket's refusal carries only its status (SignalR: "The server returned status code '401' when status
    // code '101' was expected"): our client reads the gateway's sentence, as a page shows it.
    [Theory]
    [InlineData("expired", "The token has expired: get a new one and connect again.")]
    [InlineData("forged", "The token is not one this chat accepts: its signature, issuer, audience or dates do not match.")]
    [InlineData("no token", "No token: send the one POST /auth/token")]
    public async Task Our_client_refused_for_its_token_says_why_in_the_gateways_words(string @case, string sentence)
    {
        var token = @case switch
        {
            "expired" => TestTokens.Create("mallory", expiresIn: TimeSpan.FromMinutes(-2)),
            "forged" => TestTokens.Create("mallory", signingKey: ForgedSigningKey),
            _ => null,
        };
        await using var mallory = new ChatClient(new Uri(fixture.Gateway, ChatHubPaths.Hub), () => Task.FromResult(token));

        var refused = await Assert.ThrowsAsync<HubException>(() => mallory.StartAsync(_ct));

        Assert.StartsWith(sentence, refused.Message, StringComparison.Ordinal);
        HostileInput.AssertNoInternals(refused.Message);
        Assert.Equal(HubConnectionState.Disconnected, mallory.State);
    }

    // A validly signed expiry past what a date holds once failed the disconnect: a stack trace in the log, and the
    // user stayed in their rooms until the registry's sweep.
    [Fact]
    public async Task A_token_valid_past_the_calendars_end_connects_and_leaves_its_rooms_when_it_closes()
    {
        var room = Unique("calendar");
        var user = Unique("longlived");
        await using var watcher = await ChatTestClient.ConnectAsync(fixture.Gateway, Unique("watcher"), _ct);
        await watcher.Chat.JoinRoomAsync(room);
        var logged = fixture.Cluster.A.Output.Length;
        var connection = RawHubConnection.Create(fixture.Gateway, TestTokens.WithPayload($"\"name\":\"{user}\",\"exp\":1000000000000000000"));
        await connection.Connection.StartAsync(_ct);
        await connection.Connection.InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, room, _ct);
        Assert.Equal((room, user), await watcher.NextUserJoinedAsync());

        await connection.DisposeAsync();

        Assert.Equal((room, user), await watcher.NextUserLeftAsync());
        Assert.DoesNotContain("Exception", fixture.Cluster.A.Output[logged..]);
        await fixture.AssertBystandersStillChatAsync();
    }

    // The hub's requests have an authentication path of their own (the rest go through ASP.NET's middlewares):
    // negotiate, however the path is spelled, is refused without a valid token and answered with one.
    [Theory]
    [InlineData("/hubs/chat/negotiate", null, HttpStatusCode.Unauthorized)]
    [InlineData("/HUBS/Chat/negotiate", null, HttpStatusCode.Unauthorized)]
    [InlineData("/hubs/chat/negotiate", "forged", HttpStatusCode.Unauthorized)]
    [InlineData("/hubs/chat/negotiate", "valid", HttpStatusCode.OK)]
    [InlineData("/HUBS/Chat/negotiate", "valid", HttpStatusCode.OK)]
    public async Task Negotiating_needs_a_valid_token(string path, string? token, HttpStatusCode expected)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{path}?negotiateVersion=1");
        request.Headers.Authorization = token switch
        {
            "forged" => new("Bearer", TestTokens.Create("mallory", signingKey: ForgedSigningKey)),
            "valid" => new("Bearer", await ChatTestClient.GetTokenAsync(fixture.Gateway, Unique("negotiator"), _ct)),
            _ => null,
        };

        using var response = await http.SendAsync(request, _ct);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
        else
        {
            Assert.Contains("\"connectionToken\"", await response.Content.ReadAsStringAsync(_ct));
        }

        await fixture.AssertBystandersStillChatAsync();
    }

    // A client that skips negotiation reads only the WebSocket request's answer: it says what is wrong with the token.
    [Theory]
    [InlineData("no token", "No token: send the one POST /auth/token (or your identity provider) gave as \"Authorization: Bearer <token>\"")]
    [InlineData("expired", "The token has expired: get a new one and connect again.")]
    [InlineData("expired a moment ago", "The token has expired: get a new one and connect again.")]
    [InlineData("wrong audience", "The token is not one this chat accepts: its signature, issuer, audience or dates do not match.")]
    [InlineData("bad name", "The token's user name is not a chat user name (")]
    [InlineData("two names", "The token names more than one user.")]
    // A valid token sent twice was read as one joined by a comma, and refused as forged.
    [InlineData("sent twice in the header", "The token was sent more than once (two Authorization headers, or access_token twice in the URL): send it once.")]
    [InlineData("sent twice in the URL", "The token was sent more than once (two Authorization headers, or access_token twice in the URL): send it once.")]
    public async Task A_refused_token_is_answered_saying_what_is_wrong_with_it(string @case, string answer)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        var valid = TestTokens.Create(Unique("mallory"));
        using var request = new HttpRequestMessage(HttpMethod.Get, @case == "sent twice in the URL" ? $"{ChatHubPaths.Hub}?access_token={valid}&access_token={valid}" : ChatHubPaths.Hub);
        var token = @case switch
        {
            "expired" => TestTokens.Create("mallory", expiresIn: TimeSpan.FromMinutes(-2)),
            // Within the clock skew allowed at a token's start: let in, it was closed as expired at once, again and again.
            "expired a moment ago" => TestTokens.Create("mallory", expiresIn: TimeSpan.FromSeconds(-5)),
            "wrong audience" => TestTokens.Create("mallory", audience: "another-service"),
            "bad name" => TestTokens.Create("mallory the great"),
            "two names" => TestTokens.WithPayload($"\"name\":[\"mallory\",\"alice\"],\"exp\":{DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds()}"),
            _ => null,
        };
        request.Headers.Authorization = token is null ? null : new("Bearer", token);
        if (@case == "sent twice in the header")
        {
            request.Headers.TryAddWithoutValidation("Authorization", [$"Bearer {valid}", $"Bearer {valid}"]);
        }

        using var response = await http.SendAsync(request, _ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var body = await response.Content.ReadAsStringAsync(_ct);
        Assert.StartsWith(answer, body);
        HostileInput.AssertNoInternals(body);
    }

    // SignalR's own expiry close said nothing: a client could not tell it from a network fault.
    [Fact]
    public async Task A_connection_that_outlives_its_token_is_closed_saying_so_and_may_reconnect()
    {
        await using var client = await RawWebSocketClient.ConnectAsync(fixture.Gateway, TestTokens.Create(Unique("cinderella"), expiresIn: TimeSpan.FromSeconds(5)), _ct);

        var (closed, frames) = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(30));

        Assert.True(closed, "the connection outlived its token by 25 s");
        // One close: SignalR's own, which would follow ours, is dropped (a client acting on the last one it read
        // would have been told the opposite of a replaced connection's).
        var close = Assert.Single(frames, frame => frame.Contains("\"type\":7", StringComparison.Ordinal));
        Assert.Equal("{\"type\":7,\"error\":\"The token has expired: get a new one and connect again.\",\"allowReconnect\":true}", close);
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task A_client_whose_token_expires_hears_why_asks_for_a_new_one_and_is_back_in_its_room()
    {
        var user = Unique("cinderella");
        var tokensAsked = 0;
        var chat = new ChatClient(new Uri(fixture.Gateway, ChatHubPaths.Hub),
            () => Task.FromResult<string?>(TestTokens.Create(user, expiresIn: TimeSpan.FromSeconds(Interlocked.Increment(ref tokensAsked) == 1 ? 5 : 600))),
            TimeSpan.FromSeconds(1));
        await using var client = await ChatTestClient.StartAsync(user, chat, _ct);
        var room = Unique("ball");
        await chat.JoinRoomAsync(room);

        await Eventually.HoldsAsync(() => Task.FromResult(!client.Outages.IsEmpty), TimeSpan.FromSeconds(30), () => $"never back after its token expired: {client.History}");

        Assert.Contains("The token has expired: get a new one and connect again.", client.History, StringComparison.Ordinal);
        Assert.True(Volatile.Read(ref tokensAsked) >= 2, client.History);
        await using var prince = await ChatTestClient.ConnectAsync(fixture.Gateway, Unique("prince"), _ct);
        await prince.Chat.JoinRoomAsync(room);
        await prince.Chat.SendMessageAsync(room, "c-1", "midnight");
        Assert.Equal("midnight", (await client.NextMessageAsync()).Text);
    }

    // Clients that fall back to long polling or server-sent events read why they cannot, not "No Connection with that ID".
    [Theory]
    [InlineData("GET", "?id=negotiated-id", null)]
    [InlineData("POST", "?id=negotiated-id", null)]
    [InlineData("GET", "?id=negotiated-id", "text/event-stream")]
    [InlineData("GET", "", null)]
    public async Task A_request_for_another_transport_is_told_the_hub_is_served_over_WebSockets_only(string method, string query, string? accept)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        using var request = new HttpRequestMessage(new HttpMethod(method), $"{ChatHubPaths.Hub}{query}");
        request.Headers.Authorization = new("Bearer", await ChatTestClient.GetTokenAsync(fixture.Gateway, Unique("poller"), _ct));
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        using var response = await http.SendAsync(request, _ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("The chat hub is served over WebSockets only: open a WebSocket to this path (long polling and server-sent events are not offered).",
            await response.Content.ReadAsStringAsync(_ct));
    }

    [Fact]
    public async Task A_token_in_the_access_token_query_value_is_accepted_on_the_hub_path()
    {
        var token = await ChatTestClient.GetTokenAsync(fixture.Gateway, Unique("browser"), _ct);
        var hubUrl = new Uri(fixture.Gateway, $"{ChatHubPaths.Hub}?access_token={Uri.EscapeDataString(token)}");
        await using var connection = new HubConnectionBuilder()
            .WithUrl(hubUrl, Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets, o => o.SkipNegotiation = true)
            .Build();

        await connection.StartAsync(_ct);

        Assert.Equal(HubConnectionState.Connected, connection.State);
    }

    // A client that is not a browser can put anything in the header; the answer repeats it only when it is an origin.
    [Theory]
    [InlineData("http://evil.example", "Origin http://evil.example may not open the chat hub (Chat:AllowedOrigins).")]
    [InlineData("<script>alert(1)</script>", "This request's Origin header may not open the chat hub (Chat:AllowedOrigins).")]
    public async Task A_browser_page_from_a_foreign_origin_cannot_open_the_hub(string origin, string sentence)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        using var request = new HttpRequestMessage(HttpMethod.Get, ChatHubPaths.Hub);
        request.Headers.TryAddWithoutValidation("Origin", origin);

        using var response = await http.SendAsync(request, _ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(sentence, await response.Content.ReadAsStringAsync(_ct));
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
    }

    // SignalR answered these with an empty 405 and with "Connection ID required" (it took the request for long polling).
    [Theory]
    [InlineData("GET", "negotiate", null, HttpStatusCode.MethodNotAllowed, "A negotiate is a POST request; it cannot be a GET. Clients that skip negotiation open a WebSocket to /hubs/chat directly.")]
    [InlineData("PUT", "negotiate", null, HttpStatusCode.MethodNotAllowed, "A negotiate is a POST request; it cannot be a PUT.")]
    [InlineData("GET", "", "no key", HttpStatusCode.BadRequest, "This WebSocket request is incomplete: open it with GET and the headers Connection: Upgrade, Upgrade: websocket, Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key")]
    [InlineData("GET", "", "version 99", HttpStatusCode.BadRequest, "This WebSocket request is incomplete")]
    [InlineData("GET", "", "upgrade header alone", HttpStatusCode.BadRequest, "This WebSocket request is incomplete")]
    [InlineData("POST", "", "complete but a POST", HttpStatusCode.BadRequest, "This WebSocket request is incomplete")]
    public async Task A_hub_request_of_the_wrong_shape_is_told_what_the_right_one_is(string method, string path, string? upgrade, HttpStatusCode status, string sentence)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Length > 0 ? $"{ChatHubPaths.Hub}/{path}" : ChatHubPaths.Hub);
        request.Headers.Authorization = new("Bearer", await ChatTestClient.GetTokenAsync(fixture.Gateway, Unique("shaper"), _ct));
        if (upgrade is not null)
        {
            request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
            if (upgrade != "upgrade header alone")
            {
                request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
                request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", upgrade == "version 99" ? "99" : "13");
            }

            if (upgrade is "version 99" or "complete but a POST")
            {
                request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));
            }
        }

        using var response = await http.SendAsync(request, _ct);

        Assert.Equal(status, response.StatusCode);
        Assert.StartsWith(sentence, await response.Content.ReadAsStringAsync(_ct), StringComparison.Ordinal);
        if (status == HttpStatusCode.MethodNotAllowed)
        {
            Assert.Equal("POST", string.Join(",", response.Content.Headers.Allow));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("much-too-long-for-a-user-name-really")]
    [InlineData("名前")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("-_-")]
    public async Task The_token_endpoint_refuses_an_invalid_user_name_saying_what_is_allowed(string userName)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };

        using var response = await http.PostAsJsonAsync("/auth/token", new TokenRequest(userName), _ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(_ct);
        Assert.Equal("userName must be 1-32 characters from A-Z, a-z, 0-9, '-', '_' and '.' (no spaces or accented letters), with at least one letter or digit.", problem!.Detail);
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task The_token_endpoint_refuses_a_body_that_is_not_json()
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };

        using var response = await http.PostAsync("/auth/token", new StringContent("userName=alice"), _ct);

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"got {response.StatusCode}");
        await fixture.AssertBystandersStillChatAsync();
    }

    private const string Zoe = """{"userName":"zoe","note":"café"}""";

    public static TheoryData<string, byte[], string, string?> LabelledBodies => new()
    {
        // A token for the name it holds: the body as the label (or its byte-order mark) says it is.
        { "UTF-16 as .NET writes it", System.Text.Encoding.Unicode.GetBytes(Zoe), "utf-16", null },
        { "UTF-16 big-endian after its mark, as Java writes it", [.. System.Text.Encoding.BigEndianUnicode.Preamble, .. System.Text.Encoding.BigEndianUnicode.GetBytes(Zoe)], "utf-16", null },
        { "UTF-8 after a byte-order mark", [.. System.Text.Encoding.UTF8.Preamble, .. System.Text.Encoding.UTF8.GetBytes(Zoe)], "utf-8", null },
        { "Latin-1, some libraries' default label", System.Text.Encoding.Latin1.GetBytes(Zoe), "ISO-8859-1", null },
        // UTF-8 bytes under a UTF-16 label were read as UTF-8 and made a token.
        { "UTF-8 bytes labelled UTF-16", System.Text.Encoding.UTF8.GetBytes("""{"userName":"alice"}"""), "utf-16", "The body is not valid JSON; send an object like {\"userName\":\"alice\"}." },
        { "UTF-16 with half a character at the end", [.. System.Text.Encoding.Unicode.GetBytes(Zoe), 0x20], "utf-16", "The body is not valid text in the charset it is labelled with; send an object like {\"userName\":\"alice\"}." },
        { "UTF-7, which .NET no longer reads", System.Text.Encoding.ASCII.GetBytes("""{"userName":"zoe"}"""), "utf-7", "The gateway does not read the charset the body is labelled with; send it in UTF-8 (charset=utf-8, or no charset), like {\"userName\":\"alice\"}." },
        { "a charset nobody knows", System.Text.Encoding.ASCII.GetBytes("""{"userName":"zoe"}"""), "klingon", "The gateway does not read the charset the body is labelled with; send it in UTF-8 (charset=utf-8, or no charset), like {\"userName\":\"alice\"}." },
    };

    [Theory]
    [MemberData(nameof(LabelledBodies))]
    public async Task The_token_endpoint_reads_a_body_in_the_charset_it_is_labelled_with_and_refuses_one_it_does_not_know(string what, byte[] bytes, string charset, string? problem)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        using var body = new ByteArrayContent(bytes);
        body.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");

        using var response = await http.PostAsync("/auth/token", body, _ct);

        if (problem is null)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {response.StatusCode} {await response.Content.ReadAsStringAsync(_ct)}");
            var token = (await response.Content.ReadFromJsonAsync<TokenResponse>(_ct))!.Token;
            Assert.Equal("zoe", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Subject);
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(problem, (await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(_ct))!.Detail);
        }
    }

    [Theory]
    [InlineData("GET", "/no-such-page", HttpStatusCode.NotFound, "There is nothing at this address on the chat gateway: clients connect to /hubs/chat and get a token with POST /auth/token.")]
    [InlineData("GET", "/auth/token", HttpStatusCode.MethodNotAllowed, "This address does not take GET requests; it takes POST.")]
    [InlineData("DELETE", "/auth/token", HttpStatusCode.MethodNotAllowed, "This address does not take DELETE requests; it takes POST.")]
    public async Task An_address_or_method_the_gateway_does_not_serve_is_answered_in_our_words(string method, string path, HttpStatusCode expected, string detail)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };

        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), _ct);

        Assert.Equal(expected, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(_ct);
        Assert.Equal(detail, problem!.Detail);
    }

    [Fact]
    public async Task A_client_that_takes_no_JSON_gets_the_same_sentence_as_text()
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/no-such-page");
        request.Headers.Accept.ParseAdd("text/html");

        using var response = await http.SendAsync(request, _ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("There is nothing at this address on the chat gateway: clients connect to /hubs/chat and get a token with POST /auth/token.",
            await response.Content.ReadAsStringAsync(_ct));
    }

    [Theory]
    [InlineData("""{"userName":"\ud800"}""", "The body's strings must be valid Unicode (an escaped surrogate must come in a pair)")]
    [InlineData("""{"\udc00":1,"userName":"alice"}""", "The body's strings must be valid Unicode (an escaped surrogate must come in a pair)")]
    [InlineData("""{"userName":"alice","UserName":"bob"}""", "userName must be given once: 1-32 characters")]
    public async Task The_token_endpoint_refuses_a_body_it_cannot_read_as_one_user_name_in_our_words(string body, string detail)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };

        using var response = await http.PostAsync("/auth/token", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), _ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(_ct);
        Assert.StartsWith(detail, problem!.Detail);
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task The_token_endpoint_answers_a_body_that_stops_short_of_its_length_in_our_words()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(fixture.Gateway.Host, fixture.Gateway.Port, _ct);
        var stream = tcp.GetStream();
        const string Body = "{\"userName\":\"short\"}";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /auth/token HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{Body}"), _ct);

        // The rest never comes: Kestrel gives up on the body once it falls below its minimum data rate (after 5 s).
        var (answer, buffer) = ("", new byte[4096]);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(_ct);
        patience.CancelAfter(TimeSpan.FromSeconds(30));
        while (!answer.EndsWith('}') && await stream.ReadAsync(buffer, patience.Token) is > 0 and var read)
        {
            answer += System.Text.Encoding.UTF8.GetString(buffer, 0, read);
        }

        Assert.StartsWith("HTTP/1.1 400", answer);
        Assert.Contains("The body did not arrive whole (it ended before its Content-Length, or came too slowly)", answer);
        HostileInput.AssertNoInternals(answer);
        Assert.DoesNotContain("BadHttpRequestException", fixture.Cluster.A.Output);
        await fixture.AssertBystandersStillChatAsync();
    }

    private Task<MessageAck> Send(HubConnection hub, string room, string? clientMessageId, string? text) =>
        hub.InvokeAsync<MessageAck>("SendMessage", room, clientMessageId, text, _ct);
}
