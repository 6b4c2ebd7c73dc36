using System.Net;
using System.Collections;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Client;
using Microsoft.Extensions.DependencyInjection;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Fast.InProcess;

/// <summary>The chat contract through the .NET client against the gateway in this process: the quick check that the core works.</summary>
public sealed class InProcessChatTests(InProcessGateway gateway) : IClassFixture<InProcessGateway>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1, "")] // one try, all the timeout
    [InlineData(7, " (2 tries)")] // tries of 3 s, the last one what is left
    public async Task A_start_whose_WebSocket_is_never_answered_fails_after_the_connect_timeout_in_our_words(int seconds, string tries)
    {
        var token = await gateway.TokenAsync(Unique("patient"));
        // Taken and never answered, as by a stuck replica or proxy: SignalR's own start waited for as long as it was held.
        await using var chat = new ChatClient(gateway.HubUrl, () => Task.FromResult<string?>(token), configureConnection: options =>
            options.WebSocketFactory = async (context, cancellationToken) =>
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                throw new InvalidOperationException("unreachable");
            },
            connectTimeout: TimeSpan.FromSeconds(seconds));

        var refused = await Assert.ThrowsAsync<HubException>(() => chat.StartAsync(_ct)).WaitAsync(TimeSpan.FromSeconds(20), _ct);

        Assert.Equal($"The chat at http://localhost/hubs/chat did not answer within {seconds} s{tries}: something there accepts connections but answers none (a stuck gateway or proxy). Try again in a moment.",
            refused.Message);
        Assert.Equal(HubConnectionState.Disconnected, chat.State);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChatClient(gateway.HubUrl, () => Task.FromResult<string?>(token), connectTimeout: TimeSpan.Zero));
    }

    // Behind the proxy each try may meet a frozen replica, which takes the WebSocket request and never answers; the
    // first try there held the start for its whole timeout (30 s), so a sign-in failed though every next try would
    // have reached a live one.
    [Fact]
    public async Task A_start_or_resume_whose_tries_meet_a_frozen_replica_gives_each_a_few_seconds_and_gets_through_on_the_next()
    {
        var token = await gateway.TokenAsync(Unique("patient"));
        var (tries, held) = (0, 2);
        await using var chat = new ChatClient(gateway.HubUrl, () => Task.FromResult<string?>(token), configureConnection: options =>
            options.WebSocketFactory = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref tries);
                if (Interlocked.Decrement(ref held) >= 0)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken); // the proxy picked the frozen replica
                }

                return await gateway.OpenWebSocketAsync(context.Uri, token, cancellationToken);
            });
        var states = new System.Collections.Concurrent.ConcurrentQueue<HubConnectionState>();
        chat.StateChanged += (state, _) =>
        {
            states.Enqueue(state);
            return Task.CompletedTask;
        };

        var details = await chat.StartAsync(_ct).WaitAsync(TimeSpan.FromSeconds(20), _ct);

        Assert.Equal(3, tries);
        Assert.NotNull(details);
        Assert.Equal(HubConnectionState.Connected, chat.State);
        await Eventually.HoldsAsync(() => Task.FromResult(!states.IsEmpty), ChatTestClient.Delivery, "Connected reported");
        Assert.Equal([HubConnectionState.Connected], states); // a try given up is no state of its own

        // So does a resume after a pause (the frontend pauses a tab that is gone, and resumes it when it is back).
        await chat.PauseAsync(_ct);
        Volatile.Write(ref held, 2);
        await chat.ResumeAsync(_ct).WaitAsync(TimeSpan.FromSeconds(20), _ct);
        Assert.Equal(6, tries);
        Assert.Equal(HubConnectionState.Connected, chat.State);
    }

    [Fact]
    public async Task A_client_that_gives_up_reconnecting_says_why_in_our_words_and_started_again_rejoins_its_rooms_with_what_it_missed()
    {
        var room = Unique("away-room");
        await using var bob = await gateway.ConnectAsync(Unique("bob"));
        await bob.Chat.JoinRoomAsync(room);
        var network = new CuttableNetwork(gateway, await gateway.TokenAsync(Unique("away")));
        await using var chat = network.Client(new QuickRetries(2));
        var shown = new System.Collections.Concurrent.ConcurrentQueue<string>();
        chat.MessageReceived += message =>
        {
            shown.Enqueue(message.Text);
            return Task.CompletedTask;
        };
        var states = new System.Collections.Concurrent.ConcurrentQueue<(HubConnectionState State, Exception? Error)>();
        chat.StateChanged += (state, error) =>
        {
            states.Enqueue((state, error));
            return Task.CompletedTask;
        };
        await chat.StartAsync(_ct);
        await chat.JoinRoomAsync(room);

        network.Cut(); // the network went away
        await Eventually.HoldsAsync(() => Task.FromResult(states.Any(s => s.State == HubConnectionState.Disconnected)), ChatTestClient.Delivery, "Disconnected");

        Assert.Equal([HubConnectionState.Connected, HubConnectionState.Reconnecting, HubConnectionState.Disconnected], states.Select(s => s.State));
        var gaveUp = Assert.IsType<ReconnectGaveUpException>(states.Last().Error);
        Assert.Equal(2, gaveUp.Tries);
        Assert.Matches(@"^Gave up reconnecting to the chat after 2 tries in \d+ s: Could not reach the chat at http://localhost/hubs/chat: nothing answered there \(the gateway is down, or the address is wrong\)\.$",
            gaveUp.Message);

        // Back once the application starts it again: in its room, with what was sent meanwhile, then Connected.
        await bob.Chat.SendMessageAsync(room, "while-away", "sent while alice was away");
        network.Reachable = true;
        await chat.StartAsync(_ct);
        Assert.Equal(["sent while alice was away"], shown);
        Assert.Equal(HubConnectionState.Connected, states.Last().State);
        await bob.Chat.SendMessageAsync(room, "after", "after she is back");
        await Eventually.HoldsAsync(() => Task.FromResult(shown.Count == 2), ChatTestClient.Delivery, "the live message after the restart");
    }

    [Fact]
    public async Task A_call_a_break_cut_short_or_made_without_a_connection_is_one_not_answered_to_make_again_where_a_refusal_is_the_gateways()
    {
        var room = Unique("cut-room");
        var network = new CuttableNetwork(gateway, await gateway.TokenAsync(Unique("cut")));
        await using var chat = network.Client(new QuickRetries(0));
        await chat.StartAsync(_ct);
        await chat.JoinRoomAsync(room);

        // Refused: the gateway's sentence, and sending it again would be refused again.
        var refused = await Assert.ThrowsAsync<HubException>(() => chat.SendMessageAsync("elsewhere", "c-1", "hi"));
        Assert.Equal("Join room 'elsewhere' before sending to it.", refused.Message);
        Assert.False(ChatClient.MayHaveBeenStored(refused));

        // The network goes as the send is made: its write fails on the aborted socket (an ObjectDisposedException,
        // which escaped as it was), or the client saw the break first and did not send it. Either way it is not
        // answered, to make again with the same client message id.
        network.Cut();
        var cut = await Assert.ThrowsAsync<CallNotAnsweredException>(() => chat.SendMessageAsync(room, "c-2", "into the break"));
        Assert.Equal(ChatHubMethods.SendMessage, cut.Method);
        Assert.EndsWith("Resend it with the same clientMessageId once connected.", cut.Message);
        Assert.Equal(cut.MayHaveBeenDone, ChatClient.MayHaveBeenStored(cut));

        await Eventually.HoldsAsync(() => Task.FromResult(chat.State == HubConnectionState.Disconnected), ChatTestClient.Delivery, "Disconnected");
        var notSent = await Assert.ThrowsAsync<CallNotAnsweredException>(() => chat.SendMessageAsync(room, "c-2", "into the break"));
        Assert.False(notSent.MayHaveBeenDone);
        Assert.False(ChatClient.MayHaveBeenStored(notSent));
        Assert.Equal("Not connected to the chat (disconnected): SendMessage was not sent. Resend it with the same clientMessageId once connected.", notSent.Message);

        // Made again once connected, under the same id: stored once, whatever became of the first.
        network.Reachable = true;
        await chat.StartAsync(_ct);
        var stored = await chat.SendMessageAsync(room, "c-2", "into the break");
        Assert.Equal(stored.MessageId, (await chat.SendMessageAsync(room, "c-2", "into the break")).MessageId);
        Assert.Single(await chat.GetRecentMessagesAsync(room, 10), m => m.ClientMessageId == "c-2");
    }

    /// <summary>A .NET client's way to the gateway, which a test can cut (the socket aborted, new ones refused) and restore.</summary>
    private sealed class CuttableNetwork(InProcessGateway gateway, string token)
    {
        private System.Net.WebSockets.WebSocket? _socket;

        public bool Reachable { get; set; } = true;

        public ChatClient Client(IRetryPolicy reconnectPolicy) => new(gateway.HubUrl, () => Task.FromResult<string?>(token),
            configureConnection: options => options.WebSocketFactory = async (context, cancellationToken) => Reachable
                ? _socket = await gateway.OpenWebSocketAsync(context.Uri, token, cancellationToken)
                : throw new HttpRequestException("Connection refused (localhost:80)"),
            reconnectPolicy: reconnectPolicy);

        public void Cut()
        {
            Reachable = false;
            _socket!.Abort();
        }
    }

    private sealed class QuickRetries(int tries) : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
            retryContext.PreviousRetryCount < tries ? TimeSpan.FromMilliseconds(10) : null;
    }

    [Fact]
    public async Task Members_receive_each_stored_message_once_in_order_with_the_sender_told_its_place()
    {
        var room = Unique("fast");
        await using var alice = await gateway.ConnectAsync(Unique("alice"));
        await using var bob = await gateway.ConnectAsync(Unique("bob"));
        await alice.Chat.JoinRoomAsync(room);
        var joined = await bob.Chat.JoinRoomAsync(room);

        var first = await alice.Chat.SendMessageAsync(room, "c-1", "one");
        var again = await alice.Chat.SendMessageAsync(room, "c-1", "one");
        var second = await alice.Chat.SendMessageAsync(room, "c-2", "two");

        Assert.Equal(first, again); // a resend is acknowledged as the same message
        Assert.Equal((1L, 2L), (first.Sequence, second.Sequence));
        Assert.Equal(joined.Epoch, first.Epoch);
        Assert.Equal(["one", "two"], (await bob.MessagesUntilIdAsync(second.MessageId, ChatTestClient.Delivery)).Select(m => m.Text));
    }

    [Fact]
    public async Task A_burst_from_several_senders_reaches_each_member_whole_once_and_in_order()
    {
        // Sends from several connections at once, stored in whatever order they reach Redis: a member gets each one,
        // once, in the order stored, none mixed up with another.
        var room = Unique("burst");
        await using var bob = await gateway.ConnectAsync(Unique("bob"));
        await bob.Chat.JoinRoomAsync(room);
        var senders = new List<ChatTestClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                senders.Add(await gateway.ConnectAsync(Unique("sender")));
                await senders[i].Chat.JoinRoomAsync(room);
            }

            var acks = await Task.WhenAll(senders.SelectMany((sender, i) => Enumerable.Range(1, 30)
                .Select(n => sender.Chat.SendMessageAsync(room, $"c-{i}-{n}", $"message {n} of sender {i}"))));
            var last = acks.MaxBy(ack => ack.Sequence)!;

            var received = await bob.MessagesUntilIdAsync(last.MessageId, ChatTestClient.Delivery);
            Assert.Equal(Enumerable.Range(1, 120).Select(n => (long)n), received.Select(message => message.Sequence));
            Assert.Equal(acks.OrderBy(ack => ack.Sequence).Select(ack => ack.MessageId), received.Select(message => message.Id));
            Assert.All(received, message => Assert.Matches(@"^message (\d+) of sender (\d)$", message.Text));
            Assert.Equal(received.Select(message => message.ClientMessageId), received.Select(message => Regex.Replace(message.Text, @"^message (\d+) of sender (\d)$", "c-$2-$1")));
        }
        finally
        {
            foreach (var sender in senders)
            {
                await sender.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_negotiate_keeps_no_connection_on_the_replica_and_a_client_that_negotiates_first_chats()
    {
        // SignalR keeps the connection a negotiate creates for 15 s, unused when the WebSocket reaches another
        // replica or names no id: a client negotiating in a loop would grow a replica's memory with its rate.
        var heldBefore = HeldConnections();
        var user = Unique("carol");
        var token = await gateway.TokenAsync(user);
        using var http = gateway.Http();
        async Task<JsonElement> NegotiateAsync(string query)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{ChatHubPaths.Hub}/negotiate{query}");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await http.SendAsync(request, _ct);
            Assert.Equal("application/json", response.EnsureSuccessStatusCode().Content.Headers.ContentType?.MediaType);
            return await response.Content.ReadFromJsonAsync<JsonElement>(_ct);
        }

        for (var i = 0; i < 20; i++)
        {
            var answer = await NegotiateAsync("?negotiateVersion=1");
            Assert.Equal(1, answer.GetProperty("negotiateVersion").GetInt32());
            Assert.Equal("WebSockets", answer.GetProperty("availableTransports").EnumerateArray().Single().GetProperty("transport").GetString());
            Assert.NotEqual(answer.GetProperty("connectionId").GetString(), answer.GetProperty("connectionToken").GetString());
        }

        var versionZero = await NegotiateAsync("");
        Assert.False(versionZero.TryGetProperty("connectionToken", out _)); // a version-0 client connects with the id
        Assert.Equal(1, (await NegotiateAsync("?negotiateVersion=7")).GetProperty("negotiateVersion").GetInt32());
        Assert.Equal("negotiateVersion must be a whole number from 0; this gateway speaks versions 0 and 1.",
            (await NegotiateAsync("?negotiateVersion=one")).GetProperty("error").GetString());

        Assert.InRange(HeldConnections(), 0, heldBefore); // (earlier tests' connections may still be closing)

        var room = Unique("negotiated");
        await using var carol = await gateway.ConnectAsync(user, token: token, negotiate: true);
        await using var dave = await gateway.ConnectAsync(Unique("dave"));
        await carol.Chat.JoinRoomAsync(room);
        await dave.Chat.JoinRoomAsync(room);
        var ack = await carol.Chat.SendMessageAsync(room, "c-1", "negotiated first");
        Assert.Equal(ack.MessageId, (await dave.NextMessageAsync()).Id);
    }

    [Fact]
    public async Task A_page_from_an_allowed_origin_may_negotiate_with_credentials_as_the_stock_JavaScript_client_does()
    {
        // @microsoft/signalr negotiates with credentials by default: the browser sends a preflight, then the POST, and
        // drops the answer unless both allow credentials for the page's origin ("Failed to fetch" in the page).
        var token = await gateway.TokenAsync(Unique("page"));
        using var http = gateway.Http();
        var negotiate = $"{ChatHubPaths.Hub}/negotiate?negotiateVersion=1";
        using var preflight = new HttpRequestMessage(HttpMethod.Options, negotiate);
        preflight.Headers.Add("Origin", InProcessGateway.BrowserOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,x-requested-with,x-signalr-user-agent");
        using var post = new HttpRequestMessage(HttpMethod.Post, negotiate);
        post.Headers.Add("Origin", InProcessGateway.BrowserOrigin);
        post.Headers.Authorization = new("Bearer", token);

        foreach (var request in new[] { preflight, post })
        {
            using var response = await http.SendAsync(request, _ct);
            Assert.True(response.IsSuccessStatusCode, $"{request.Method}: {response.StatusCode}");
            Assert.Equal(InProcessGateway.BrowserOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("true", response.Headers.TryGetValues("Access-Control-Allow-Credentials", out var allowed) ? allowed.Single() : null);
        }

        // Kept by the browser for 10 minutes (its default is 5 s): each token request of the /js page needed one,
        // through the proxy to a replica of its own, which could be a frozen one.
        using var again = new HttpRequestMessage(HttpMethod.Options, negotiate);
        again.Headers.Add("Origin", InProcessGateway.BrowserOrigin);
        again.Headers.Add("Access-Control-Request-Method", "POST");
        using var kept = await http.SendAsync(again, _ct);
        Assert.Equal("600", kept.Headers.GetValues("Access-Control-Max-Age").Single());
    }

    /// <summary>
    /// How many connections SignalR holds on this gateway. It publishes no such count: its active-connections
    /// metric and event counters count connections a transport started, not one a negotiate created and nobody
    /// used, so this reads its connection table (a heap dump shows the same).
    /// </summary>
    private int HeldConnections()
    {
        var manager = typeof(HttpConnectionDispatcherOptions).Assembly.GetType("Microsoft.AspNetCore.Http.Connections.Internal.HttpConnectionManager")!;
        var table = manager.GetField("_connections", BindingFlags.NonPublic | BindingFlags.Instance)!;
        return ((ICollection)table.GetValue(gateway.Services.GetRequiredService(manager))!).Count;
    }

    [Fact]
    public async Task Once_connected_the_request_no_longer_holds_the_token_whether_it_came_in_the_query_string_or_the_header()
    {
        var room = Unique("token");
        var (browserLike, dotnet) = (Unique("query"), Unique("header"));
        await using var alice = await gateway.ConnectAsync(browserLike, tokenInQuery: true);
        await using var bob = await gateway.ConnectAsync(dotnet);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);

        // The request lives as long as its connection: what it holds of the token (~0.9 KB) is gone once connected.
        // (Kestrel's HTTP/1.1 connection keeps its own copy of the request target; the test server has none.)
        var local = gateway.Services.GetRequiredService<LocalConnections>();
        foreach (var user in new[] { browserLike, dotnet })
        {
            var http = local.OfUser(user).Single().GetHttpContext()!;
            // All but the client's id and attempt, which the hub reads at connect.
            Assert.Matches("^\\?clientId=[0-9a-f]{32}&attempt=[0-9]{13}$", http.Features.Get<IHttpRequestFeature>()!.QueryString);
            Assert.Equal([ChatHubPaths.ClientIdParameter, ChatHubPaths.AttemptParameter], http.Request.Query.Keys);
            Assert.Equal(0, http.Request.Headers.Authorization.Count);
            Assert.Null(http.Features.Get<IAuthenticateResultFeature>());
        }

        // Both still chat (the user and the expiry SignalR needs were read before the token went).
        var sent = await alice.Chat.SendMessageAsync(room, "c-1", "still here");
        Assert.Equal("still here", (await bob.MessagesUntilIdAsync(sent.MessageId, ChatTestClient.Delivery)).Single().Text);
        var reply = await bob.Chat.SendMessageAsync(room, "c-2", "and you?");
        Assert.Equal(["still here", "and you?"], (await alice.MessagesUntilIdAsync(reply.MessageId, ChatTestClient.Delivery)).Select(m => m.Text));
    }

    [Fact]
    public async Task A_late_joiner_reads_what_came_before_from_the_history_and_then_gets_what_follows_live()
    {
        var room = Unique("history");
        await using var alice = await gateway.ConnectAsync(Unique("alice"));
        await alice.Chat.JoinRoomAsync(room);
        for (var i = 1; i <= 3; i++)
        {
            await alice.Chat.SendMessageAsync(room, $"c-{i}", $"early {i}");
        }

        await using var bob = await gateway.ConnectAsync(Unique("bob"));
        var joined = await bob.Chat.JoinRoomAsync(room);
        var history = await bob.Chat.GetMessagesAsync(room, null, 10);
        var live = await alice.Chat.SendMessageAsync(room, "c-4", "late");

        Assert.Equal(3, joined.LastSequence);
        Assert.Equal(["early 1", "early 2", "early 3"], history.Select(m => m.Text));
        Assert.Equal(["early 2", "early 3"], (await bob.Chat.GetOlderMessagesAsync(room, live.MessageId, 2)).Select(m => m.Text));
        Assert.Equal("late", (await bob.MessagesUntilIdAsync(live.MessageId, ChatTestClient.Delivery)).Single().Text);
    }

    [Fact]
    public async Task Presence_follows_joins_leaves_and_disconnects()
    {
        var room = Unique("presence");
        await using var alice = await gateway.ConnectAsync(Unique("alice"));
        await alice.Chat.JoinRoomAsync(room);
        var bob = await gateway.ConnectAsync(Unique("bob"));
        await bob.Chat.JoinRoomAsync(room);

        Assert.Equal((room, bob.User), await alice.NextUserJoinedAsync());
        Assert.Equal([alice.User, bob.User], (await alice.Chat.GetRoomMembersAsync(room)).Order(StringComparer.Ordinal));
        await bob.DisposeAsync();
        Assert.Equal((room, bob.User), await alice.NextUserLeftAsync());
        Assert.Equal([alice.User], await alice.Chat.GetRoomMembersAsync(room));
    }

    [Fact]
    public async Task A_paused_client_is_seen_to_leave_and_on_resuming_is_back_in_its_rooms_with_what_it_missed_once()
    {
        var room = Unique("paused");
        await using var alice = await gateway.ConnectAsync(Unique("alice"));
        await using var bob = await gateway.ConnectAsync(Unique("bob"));
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        Assert.Equal((room, bob.User), await alice.NextUserJoinedAsync());
        var before = await alice.Chat.SendMessageAsync(room, "c-1", "before");
        await bob.MessagesUntilIdAsync(before.MessageId, ChatTestClient.Delivery);

        await bob.Chat.PauseAsync(_ct);
        Assert.Equal((room, bob.User), await alice.NextUserLeftAsync());
        Assert.Equal([alice.User], await alice.Chat.GetRoomMembersAsync(room));
        await alice.Chat.SendMessageAsync(room, "c-2", "while away 1");
        var last = await alice.Chat.SendMessageAsync(room, "c-3", "while away 2");

        await bob.Chat.ResumeAsync(_ct);
        Assert.Equal((room, bob.User), await alice.NextUserJoinedAsync());
        Assert.Equal(["while away 1", "while away 2"], (await bob.MessagesUntilIdAsync(last.MessageId, ChatTestClient.Delivery)).Select(m => m.Text));
        var after = await alice.Chat.SendMessageAsync(room, "c-4", "after");
        Assert.Equal(["after"], (await bob.MessagesUntilIdAsync(after.MessageId, ChatTestClient.Delivery)).Select(m => m.Text));
    }

    [Fact]
    public async Task A_refusal_says_what_is_wrong_in_our_words_and_the_connection_stays()
    {
        await using var mallory = await gateway.ConnectAsync(Unique("mallory"));

        var refused = await Assert.ThrowsAsync<HubException>(() => mallory.Chat.JoinRoomAsync(".."));
        var notMember = await Assert.ThrowsAsync<HubException>(() => mallory.Chat.SendMessageAsync("elsewhere", "c-1", "hi"));

        Assert.Equal("JoinRoom: 'room' must be 1-64 characters from A-Z, a-z, 0-9, '-', '_' and '.' (no spaces or accented letters), with at least one letter or digit.", refused.Message);
        Assert.Equal("Join room 'elsewhere' before sending to it.", notMember.Message);
        Assert.NotNull(await mallory.Chat.GetConnectionInfoAsync());
    }

    [Fact]
    public async Task A_bad_sign_in_body_is_a_problem_naming_the_field_and_the_ops_snapshot_wants_its_key()
    {
        using var http = gateway.Http();

        using var badBody = await http.PostAsync(ChatHubPaths.Token, new StringContent("[\"alice\"]", System.Text.Encoding.UTF8, "application/json"), _ct);
        using var withoutKey = await http.GetAsync(ChatHubPaths.OpsSnapshot, _ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, ChatHubPaths.OpsSnapshot) { Headers = { { ChatHubPaths.OpsKeyHeader, GatewayCluster.OpsAccessKey } } };
        using var withKey = await http.SendAsync(request, _ct);

        Assert.Equal(HttpStatusCode.BadRequest, badBody.StatusCode);
        Assert.Contains("The body must be a JSON object", await badBody.Content.ReadAsStringAsync(_ct));
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.NotNull(await withKey.Content.ReadFromJsonAsync<OpsSnapshot>(_ct));
    }
}
