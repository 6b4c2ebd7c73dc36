using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>
/// What a hostile client tries — eavesdropping past a refused join, leaving ghost members, reading internals,
/// faking outages, holding a connection while silent, holding a room back by not reading, minting identities — is
/// refused, and two bystanders keep chatting meanwhile. (Invisible content and strict ids are among BadInputTests' cases.)
/// </summary>
public sealed class HostileClientTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_join_refused_at_the_room_limit_leaves_no_trace_no_delivery_no_membership_no_announcement()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, Settings(("Chat__Limits__MaxRoomsPerConnection", "2")), _ct);
        var room = Unique("private-talk");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        Assert.Equal((room, bob.User), await alice.NextUserJoinedAsync());

        // Mallory is on Alice's replica, at her room limit, and keeps asking to join while the room talks.
        await using var mallory = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, Unique("mallory"), _ct);
        var overheard = 0;
        mallory.Connection.On<ChatMessage>(nameof(IChatClient.MessageReceived), message =>
        {
            if (message.Room == room)
            {
                Interlocked.Increment(ref overheard);
            }
        });
        await mallory.Connection.InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, Unique("first"), _ct);
        await mallory.Connection.InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, Unique("second"), _ct);
        using var stop = new CancellationTokenSource();
        var attempts = Task.Run(async () =>
        {
            var refusals = new List<string>();
            while (!stop.IsCancellationRequested)
            {
                refusals.Add((await Assert.ThrowsAsync<HubException>(() => mallory.Connection.InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, room, _ct))).Message);
            }

            return refusals;
        }, _ct);

        for (var i = 1; i <= 40; i++)
        {
            await alice.Chat.SendMessageAsync(room, $"m-{i}", $"between us {i}");
        }

        // Alice is on Mallory's replica: once her own copy of the last message is back, Mallory's would have been too.
        await alice.MessagesUntilAsync(room, 40, ChatTestClient.Delivery);
        var received = await bob.MessagesUntilAsync(room, 40, ChatTestClient.Delivery);
        await stop.CancelAsync();
        var refusals = await attempts;

        Assert.Equal(0, overheard);
        Assert.NotEmpty(refusals);
        Assert.All(refusals, r => Assert.Contains("too many rooms (at most 2, Chat:Limits:MaxRoomsPerConnection)", r));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), received.Select(m => m.Sequence));
        Assert.Equal([alice.User, bob.User], (await alice.Chat.GetRoomMembersAsync(room)).Order(StringComparer.Ordinal));
        Assert.Equal(2, (await bob.Chat.GetRoomStatsAsync(room)).Members);
        // No UserJoined for Mallory: the next one Alice hears of is Carol's.
        await using var carol = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("carol"), _ct);
        await carol.Chat.JoinRoomAsync(room);
        Assert.Equal((room, carol.User), await alice.NextUserJoinedAsync());
    }

    [Fact]
    public async Task Two_hundred_connect_disconnect_cycles_with_joins_in_flight_leave_no_ghost_member()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        var room = Unique("churn");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        var ghost = Unique("ghost");
        var token = await ChatTestClient.GetTokenAsync(cluster.A.BaseAddress, ghost, _ct);

        for (var i = 0; i < 200; i++)
        {
            await using var client = await RawWebSocketClient.ConnectAsync(i % 2 == 0 ? cluster.A.BaseAddress : cluster.B.BaseAddress, token, _ct);
            await client.InvokeAsync(ChatHubMethods.JoinRoom, [room], _ct);
            if (i % 4 < 2)
            {
                await client.CloseAsync(_ct);
            }
            else
            {
                client.Vanish(); // while the join is in flight
            }
        }

        await AssertPresenceAsync(alice, room, [alice.User, bob.User]);
        await Task.Delay(TimeSpan.FromSeconds(1), _ct); // and it stays so: no late join brings a ghost back
        await AssertPresenceAsync(alice, room, [alice.User, bob.User]);
        Assert.Contains("is not connected anywhere", (await Assert.ThrowsAsync<HubException>(() => alice.Chat.SendPrivateMessageAsync(ghost, "hello?"))).Message);
        await alice.Chat.SendMessageAsync(room, "after-churn", "still here");
        Assert.Equal("still here", (await bob.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task Presence_is_exact_after_random_interleavings_of_join_leave_and_disconnect_on_both_replicas()
    {
        var seed = Random.Shared.Next();
        TestContext.Current.SendDiagnosticMessage($"seed {seed}");
        var random = new Random(seed);
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        var gateways = new[] { cluster.A.BaseAddress, cluster.B.BaseAddress };
        var rooms = new[] { Unique("north"), Unique("south"), Unique("east") };
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        foreach (var room in rooms)
        {
            await alice.Chat.JoinRoomAsync(room);
            await bob.Chat.JoinRoomAsync(room);
        }

        var users = Enumerable.Range(0, 4).Select(i => new Member(Unique($"user{i}"))).ToList();
        try
        {
            for (var round = 0; round < 5; round++)
            {
                var plans = users.Select(user => (user, seed: random.Next())).ToList();
                await Task.WhenAll(plans.Select(plan => RunRoundAsync(plan.user, gateways, rooms, new Random(plan.seed))));
                foreach (var room in rooms)
                {
                    await AssertPresenceAsync(alice, room, [alice.User, bob.User, .. users.Where(u => u.Rooms.Contains(room)).Select(u => u.Name)],
                        $"round {round} (seed {seed})");
                }
            }

            await alice.Chat.SendMessageAsync(rooms[0], "after-rounds", "all settled");
            Assert.Equal("all settled", (await bob.MessagesUntilAsync(rooms[0], 1, ChatTestClient.Delivery)).Single().Text);
        }
        finally
        {
            foreach (var user in users)
            {
                await user.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// One user's round: its lasting connection (awaited joins and leaves, sometimes replaced by a new one) runs
    /// beside three short-lived ones that fire joins and leaves without waiting and then close or vanish.
    /// </summary>
    private async Task RunRoundAsync(Member user, Uri[] gateways, string[] rooms, Random random)
    {
        var token = await ChatTestClient.GetTokenAsync(gateways[0], user.Name, _ct);
        var shortLived = Enumerable.Range(0, 3).Select(_ => (gateway: gateways[random.Next(2)], ops: random.Next(1, 6), vanish: random.Next(2) == 0,
            delay: random.Next(0, 30), rooms: Enumerable.Range(0, 6).Select(_ => rooms[random.Next(rooms.Length)]).ToList())).ToList();
        var lasting = Enumerable.Range(0, random.Next(2, 6)).Select(_ => (join: random.Next(3) > 0, room: rooms[random.Next(rooms.Length)])).ToList();
        var replace = random.Next(4) == 0;

        var ephemeral = shortLived.Select(async plan =>
        {
            await using var client = await RawWebSocketClient.ConnectAsync(plan.gateway, token, _ct);
            try
            {
                for (var i = 0; i < plan.ops; i++)
                {
                    await client.InvokeAsync(i % 3 == 2 ? ChatHubMethods.LeaveRoom : ChatHubMethods.JoinRoom, [plan.rooms[i]], _ct);
                }

                await Task.Delay(plan.delay, _ct);
                if (plan.vanish)
                {
                    client.Vanish();
                }
                else
                {
                    await client.CloseAsync(_ct);
                }
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
                // Refused at connect (its user's older connections were still closing): nothing of it may remain either.
            }
        });

        var steady = Task.Run(async () =>
        {
            if (replace || user.Connection is null)
            {
                await user.ReplaceAsync(gateways[random.Next(2)], token, _ct);
            }

            foreach (var (join, room) in lasting)
            {
                try
                {
                    await user.Connection!.InvokeAsync<object?>(join ? ChatHubMethods.JoinRoom : ChatHubMethods.LeaveRoom, room, _ct);
                    if (join)
                    {
                        user.Rooms.Add(room);
                    }
                    else
                    {
                        user.Rooms.Remove(room);
                    }
                }
                catch (HubException ex) when (!join && ex.Message.Contains("is not in room"))
                {
                }
            }
        }, _ct);

        await Task.WhenAll([steady, .. ephemeral]);
    }

    private sealed class Member(string name) : IAsyncDisposable
    {
        public string Name { get; } = name;

        public HubConnection? Connection { get; private set; }

        /// <summary>The rooms the lasting connection is in, as its awaited calls left it.</summary>
        public HashSet<string> Rooms { get; } = new(StringComparer.Ordinal);

        public async Task ReplaceAsync(Uri gateway, string token, CancellationToken cancellationToken)
        {
            await DisposeAsync();
            Rooms.Clear();
            Connection = RawHubConnection.Create(gateway, token).Connection;
            await Connection.StartAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            if (Connection is not null)
            {
                await Connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_client_silent_after_the_handshake_or_trickling_part_of_a_message_is_dropped_at_the_client_timeout_while_one_that_pings_stays()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, Settings(
            // A ping every second against a six-second timeout: the pinger survives stalls of several seconds
            // on a loaded machine, so only a real failure to count its pings drops it.
            ("Chat__Limits__ClientTimeoutInterval", "00:00:06"), ("Chat__Limits__KeepAliveInterval", "00:00:01")), _ct);
        await using var bystanders = await BystanderPair.StartAsync(cluster.A.BaseAddress, cluster.A.BaseAddress, _ct);
        var started = DateTime.UtcNow;
        await using var silent = await RawWebSocketClient.ConnectAsync(cluster.A.BaseAddress, TestTokens.Create(Unique("silent")), _ct);
        await using var pinger = await RawWebSocketClient.ConnectAsync(cluster.A.BaseAddress, TestTokens.Create(Unique("pinger")), _ct);
        await using var trickler = await RawWebSocketClient.ConnectAsync(cluster.A.BaseAddress, TestTokens.Create(Unique("trickler")), _ct);
        using var stopPinging = new CancellationTokenSource();
        var pinging = Task.Run(async () =>
        {
            // The trickler begins a ping and sends one more space of it a second, each in a WebSocket message of its
            // own: bytes every second, never a whole message.
            await trickler.SendAsync("{\"type\":6", stopPinging.Token);
            while (!stopPinging.IsCancellationRequested)
            {
                await pinger.SendAsync("{\"type\":6}" + RawWebSocketClient.RecordSeparator, stopPinging.Token);
                await trickler.SendAsync(" ", stopPinging.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                await Task.Delay(TimeSpan.FromSeconds(1), stopPinging.Token);
            }
        }, _ct);

        var (silentClosed, silentFrames) = await silent.ReadUntilClosedAsync(TimeSpan.FromSeconds(20));
        Assert.True(silentClosed, "the silent client was never dropped");
        var droppedAfter = DateTime.UtcNow - started;
        // Told why, and that it may reconnect (it may only have been held up); then nothing more (the transport only
        // ended before, without a close message or a WebSocket close).
        var silentClose = $"{{\"type\":7,\"error\":\"{LocalConnections.SilentSentence}\",\"allowReconnect\":true}}";
        Assert.Equal(silentClose, silentFrames[^1]);
        var (tricklerClosed, tricklerFrames) = await trickler.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));
        Assert.True(tricklerClosed, "the client trickling part of a message was never dropped");
        Assert.Equal(silentClose, tricklerFrames[^1]);
        var (pingerClosed, pingerFrames) = await pinger.ReadUntilClosedAsync(TimeSpan.FromSeconds(3));
        Assert.False(pingerClosed, $"the client that pings was dropped; its last frames: {string.Join(" ", pingerFrames.TakeLast(3))}");
        await stopPinging.CancelAsync();
        await pinging.ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.InRange(droppedAfter, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20));
        await bystanders.AssertStillChattingAsync();
    }

    [Fact]
    public async Task A_leave_refused_by_the_rate_limit_keeps_the_room_joined_in_the_client_as_on_the_server()
    {
        // Bursts of 4 room changes (twice the rooms per connection), one more every 10 s.
        await using var cluster = await GatewayCluster.StartAsync(1, Settings(("Chat__Limits__MaxRoomsPerConnection", "2"), ("Chat__Limits__RoomChangesPerSecond", "0.1")), _ct);
        var (kept, other) = (Unique("kept"), Unique("other"));
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        await bob.Chat.JoinRoomAsync(kept);
        await alice.Chat.JoinRoomAsync(kept);
        await alice.Chat.JoinRoomAsync(other);
        await alice.Chat.LeaveRoomAsync(other);
        await alice.Chat.JoinRoomAsync(other);

        var refused = await Assert.ThrowsAsync<HubException>(() => alice.Chat.LeaveRoomAsync(kept));
        Assert.Contains("Too many joins and leaves", refused.Message, StringComparison.Ordinal);

        // Still a member on the server, so still shown here (the client once forgot the room before the server answered).
        var ack = await bob.Chat.SendMessageAsync(kept, "after-refused-leave", "still here?");
        Assert.Contains(await alice.MessagesUntilAsync(kept, ack.Sequence, ChatTestClient.Delivery), m => m.Id == ack.MessageId);
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_dropped_at_the_slow_client_timeout_and_its_room_gets_every_message()
    {
        // Large texts fill the stuck client's socket buffers (several MB on loopback) in a few hundred sends.
        const int Sends = 300;
        await using var cluster = await GatewayCluster.StartAsync(1, Settings(
            ("Chat__Limits__SlowClientTimeout", "00:00:03"), ("Chat__Limits__MaxTextLength", "100000"), ("Chat__Limits__MaxMessageBytes", "1048576"),
            ("Chat__Limits__MessagesPerSecond", "1000"), ("Chat__Limits__MessageBurst", "1000"), ("Chat__History__MaxMessagesPerRoom", "10")), _ct);
        var room = Unique("slow-reader");
        await using var sender = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("sender"), _ct);
        await using var reader = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("reader"), _ct);
        await sender.Chat.JoinRoomAsync(room);
        await reader.Chat.JoinRoomAsync(room);

        // The stuck client joins, then never reads again: what it is sent piles up in its buffers, then in ours.
        var stuckUser = Unique("stuck");
        await using var stuck = await RawWebSocketClient.ConnectAsync(cluster.A.BaseAddress, TestTokens.Create(stuckUser), _ct);
        await stuck.InvokeAsync(ChatHubMethods.JoinRoom, [room], _ct);
        Assert.Equal((room, stuckUser), await reader.NextUserJoinedAsync());

        var text = new string('x', 90_000);
        for (var i = 1; i <= Sends; i++)
        {
            await sender.Chat.SendMessageAsync(room, $"big-{i}", text);
        }

        // Deliveries to the room wait for the stuck client until it is dropped; then every message still arrives, in order.
        var received = await reader.MessagesUntilAsync(room, Sends, TimeSpan.FromSeconds(90));
        Assert.Equal(Enumerable.Range(1, Sends).Select(i => (long)i), received.Where(m => m.Room == room).Select(m => m.Sequence));
        Assert.Equal((room, stuckUser), await reader.NextUserLeftAsync());
        Assert.True(await stuck.ClosedByServerWithinAsync(TimeSpan.FromSeconds(30)), "the stuck client was never closed");
        // Our timeout closed it (it says why), not a transport error or SignalR's own send timeout (a backstop at 6 s).
        await Eventually.HoldsAsync(() => Task.FromResult(cluster.A.Output.Contains("the slow-client timeout", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the gateway's log line for the slow client");
    }

    // One frame of 100 history reads pulled 85 MB from a replica in 3 s: reads are limited by the items they return.
    [Fact]
    public async Task A_flood_of_history_reads_is_throttled_by_what_it_returns_and_the_connection_kept()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, Settings(
            ("Chat__Limits__ItemsReadBurst", "300"), ("Chat__Limits__ItemsReadPerSecond", "1"),
            ("Chat__Limits__MessagesPerSecond", "1000"), ("Chat__Limits__MessageBurst", "1000")), _ct);
        await using var bystanders = await BystanderPair.StartAsync(cluster.A.BaseAddress, cluster.A.BaseAddress, _ct);
        var room = Unique("hoard");
        await using var reader = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("reader"), _ct);
        await reader.Chat.JoinRoomAsync(room);
        for (var i = 1; i <= 50; i++)
        {
            await reader.Chat.SendMessageAsync(room, $"m-{i}", "a line of history");
        }

        // Each read returns 50 messages: six fit the burst of 300, the seventh finds it spent.
        var granted = 0;
        HubException? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            try
            {
                Assert.Equal(50, (await reader.Chat.GetRecentMessagesAsync(room, 200)).Count);
                granted++;
            }
            catch (HubException ex)
            {
                refused = ex;
            }
        }

        Assert.InRange(granted, 6, 7);
        Assert.Equal("Too many reads: at most 1 items per second, bursts of 300 (Chat:Limits:ItemsReadPerSecond, Chat:Limits:ItemsReadBurst; "
            + "a read counts the messages, rooms or names it returns, at least 10). Wait a moment and try again.", refused?.Message);
        // Sends have their own allowance, the connection stays, and another connection has its own reads.
        await reader.Chat.SendMessageAsync(room, "after-the-reads", "still here");
        await using var other = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("other"), _ct);
        await other.Chat.JoinRoomAsync(room);
        Assert.Equal(51, (await other.Chat.GetRecentMessagesAsync(room, 200)).Count);

        // A read that returns little still counts 10 (each is a round trip): thirty fit the burst of 300, the client's
        // start (which asks GetConnectionInfo to know it was let in) being one of them.
        await using var asker = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("asker"), _ct);
        var answered = 0;
        while (answered < 100)
        {
            try
            {
                await asker.Chat.GetConnectionInfoAsync();
                answered++;
            }
            catch (HubException)
            {
                break;
            }
        }

        Assert.InRange(answered, 29, 30);
        await bystanders.AssertStillChattingAsync();
    }

    [Fact]
    public async Task Sign_ins_from_one_address_are_rate_limited_with_a_problem_that_names_the_settings()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, Settings(
            ("Auth__TokenRequests__PermitsPerMinute", "6"), ("Auth__TokenRequests__Burst", "10")), _ct);
        await using var bystanders = await BystanderPair.StartAsync(cluster.A.BaseAddress, cluster.A.BaseAddress, _ct);
        using var http = new HttpClient { BaseAddress = cluster.A.BaseAddress };

        HttpResponseMessage? refused = null;
        var granted = 0;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            var response = await http.PostAsJsonAsync(ChatHubPaths.Token, new TokenRequest(Unique("minted")), _ct);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                granted++;
                response.Dispose();
            }
        }

        using (refused)
        {
            Assert.NotNull(refused);
            Assert.InRange(granted, 7, 9); // the burst of 10 less the bystanders' two, and at most one refill
            Assert.NotNull(refused.Headers.RetryAfter);
            var text = await refused.Content.ReadAsStringAsync(_ct);
            Assert.Contains("(Auth:TokenRequests:PermitsPerMinute, Auth:TokenRequests:Burst)", text);
            HostileInput.AssertNoInternals(text);
        }

        await bystanders.AssertStillChattingAsync();
    }

    [Fact]
    public async Task With_an_identity_provider_only_its_tokens_for_this_audience_connect_and_nobody_can_mint_one()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(1, Settings(
            ("Auth__Authority", idp.Issuer.ToString()), ("Auth__RequireHttpsMetadata", "false")), _ct);
        var gateway = cluster.A.BaseAddress;
        var (aliceName, bobName) = (Unique("alice"), Unique("bob"));
        await using var alice = await ChatTestClient.ConnectAsync(gateway, aliceName, idp.CreateToken(aliceName), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(gateway, bobName, idp.CreateToken(bobName), _ct);
        var room = Unique("sso");
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        await alice.Chat.SendMessageAsync(room, "m-1", "signed in elsewhere");
        Assert.Equal(aliceName, (await bob.NextMessageAsync()).User);

        foreach (var (@case, token) in new[]
        {
            ("another issuer", idp.CreateToken("mallory", issuer: "http://127.0.0.1:1/realms/evil/")),
            ("a wrong audience", idp.CreateToken("mallory", audience: "another-api")),
            ("an unknown key id", idp.CreateToken("mallory", signingKey: TestIdentityProvider.UnknownKey("test-key-2"))),
            ("a development token", TestTokens.Create("mallory")),
            ("a name that breaks the rule", idp.CreateToken("..")),
        })
        {
            await using var mallory = RawHubConnection.Create(gateway, token);
            var error = await Assert.ThrowsAnyAsync<Exception>(() => mallory.Connection.StartAsync(_ct));
            Assert.True(error.Message.Contains("401"), $"{@case}: {error.Message}");
        }

        using var http = new HttpClient { BaseAddress = gateway };
        using (var minted = await http.PostAsJsonAsync(ChatHubPaths.Token, new TokenRequest("mallory"), _ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, minted.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await OpsSnapshotStatusAsync(http, bearer: null, key: null));
        Assert.Equal(HttpStatusCode.Forbidden, await OpsSnapshotStatusAsync(http, idp.CreateToken(aliceName), key: null));
        Assert.Equal(HttpStatusCode.OK, await OpsSnapshotStatusAsync(http, idp.CreateToken("operator", roles: ["chat-operator"]), key: null));
        Assert.Equal(HttpStatusCode.OK, await OpsSnapshotStatusAsync(http, bearer: null, GatewayCluster.OpsAccessKey));

        await alice.Chat.SendMessageAsync(room, "m-2", "still here");
        Assert.Equal("still here", (await bob.NextMessageAsync()).Text);
    }

    internal static async Task<HttpStatusCode> OpsSnapshotStatusAsync(HttpClient http, string? bearer, string? key)
    {
        var _ct = TestContext.Current.CancellationToken;
        using var request = new HttpRequestMessage(HttpMethod.Get, ChatHubPaths.OpsSnapshot);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (key is not null)
        {
            request.Headers.Add(ChatHubPaths.OpsKeyHeader, key);
        }

        using var response = await http.SendAsync(request, _ct);
        HostileInput.AssertNoInternals(await response.Content.ReadAsStringAsync(_ct));
        return response.StatusCode;
    }

    /// <summary>Members, member count and the room list agree with who is really in the room, within a few seconds and without any sweep.</summary>
    private static async Task AssertPresenceAsync(ChatTestClient observer, string room, IEnumerable<string> expected, string context = "")
    {
        var want = expected.Distinct().Order(StringComparer.Ordinal).ToList();
        IReadOnlyList<string> members = [];
        RoomStats? stats = null;
        IReadOnlyList<RoomSummary> listed = [];
        try
        {
            await Eventually.HoldsAsync(async () =>
            {
                members = await observer.Chat.GetRoomMembersAsync(room);
                stats = await observer.Chat.GetRoomStatsAsync(room);
                listed = await observer.Chat.ListRoomsAsync(200);
                return members.SequenceEqual(want) && stats.Members == want.Count && listed.Any(r => r.Room == room && r.Members == want.Count);
            }, Settle, "exact presence");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{context} '{room}': expected [{string.Join(", ", want)}], members [{string.Join(", ", members)}], stats {stats?.Members}, " +
                $"listed {listed.FirstOrDefault(r => r.Room == room)?.Members}");
        }
    }

    internal static Dictionary<string, string> Settings(params (string Name, string Value)[] settings) =>
        settings.ToDictionary(s => s.Name, s => s.Value);
}

/// <summary>Hostile input that needs no special settings, against one gateway and its bystanders.</summary>
public sealed class HostileInputTests(BystanderFixture fixture) : IClassFixture<BystanderFixture>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string, string> BadSignInRequests => new()
    {
        { "a JSON array", "application/json", "[\"alice\"]", "body" },
        { "truncated JSON", "application/json", "{\"userName\":\"ali", "body" },
        { "JSON null", "application/json", "null", "body" },
        { "not JSON at all", "application/json", "<user>alice</user>", "body" },
        { "a number for the name", "application/json", "{\"userName\":42}", "userName" },
        { "an object for the name", "application/json", "{\"userName\":{\"first\":\"alice\"}}", "userName" },
        { "no name", "application/json", "{}", "userName" },
        { "a name of dots", "application/json", "{\"userName\":\"..\"}", "userName" },
        { "form data", "application/x-www-form-urlencoded", "userName=alice", "body" },
        { "a body of 5 KB", "application/json", "{\"userName\":\"" + new string('a', 5000) + "\"}", "body" },
    };

    [Theory]
    [MemberData(nameof(BadSignInRequests))]
    public async Task A_bad_sign_in_request_gets_a_problem_naming_the_field_and_no_internals(string @case, string contentType, string body, string field)
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };

        using var response = await http.PostAsync(ChatHubPaths.Token, new StringContent(body, Encoding.UTF8, contentType), _ct);

        var text = await response.Content.ReadAsStringAsync(_ct);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{@case}: {response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"{@case}: no error for '{field}' in {text}");
        Assert.Contains(field == "body" ? "{\"userName\":\"alice\"}" : "1-32 characters", messages[0].GetString());
        HostileInput.AssertNoInternals(text);
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task A_compressed_sign_in_body_is_refused_as_compressed_not_as_bad_JSON()
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };
        var compressed = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(Encoding.UTF8.GetBytes("{\"userName\":\"alice\"}"), _ct);
        }

        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await http.PostAsync(ChatHubPaths.Token, content, _ct);

        var text = await response.Content.ReadAsStringAsync(_ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not read compressed bodies (Content-Encoding)", JsonDocument.Parse(text).RootElement.GetProperty("errors").GetProperty("body")[0].GetString());
    }

    public static TheoryData<string, string, string> BadFrames => new()
    {
        { "truncated JSON", "{\"type\":1,\"target\":\"JoinRoom\",\"arguments\":[", "A frame was not valid JSON" },
        { "an invocation without a target", "{\"type\":1,\"invocationId\":\"1\",\"arguments\":[]}", "An invocation (type 1) had no \"target\"" },
        { "a bare number", "42", "A frame was not a JSON object" },
        { "text", "hello", "A frame was not valid JSON" },
        // Each of these had the one sentence above, which named none of them.
        { "a call that takes nothing, written without arguments", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"GetConnectionInfo\"}",
            "An invocation of 'GetConnectionInfo' had no \"arguments\": send the method's arguments as an array, [] for a method that takes none" },
        { "arguments that are not an array", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"JoinRoom\",\"arguments\":\"lobby\"}",
            "An invocation of 'JoinRoom' had \"arguments\" that were not an array" },
        { "a numeric invocation id", "{\"type\":1,\"invocationId\":1,\"target\":\"GetConnectionInfo\",\"arguments\":[]}", "A frame's \"invocationId\" was not a string" },
        { "the handshake sent again", "{\"protocol\":\"json\",\"version\":1}", "A frame was a second handshake" },
        { "no type", "{\"target\":\"JoinRoom\",\"arguments\":[\"lobby\"]}", "A frame's \"type\" was missing or not a whole number" },
        { "a type in quotes", "{\"type\":\"1\",\"invocationId\":\"1\",\"target\":\"GetConnectionInfo\",\"arguments\":[]}", "A frame's \"type\" was missing or not a whole number" },
        { "a null invocation id (SignalR refuses it)", "{\"type\":1,\"invocationId\":null,\"target\":\"GetConnectionInfo\",\"arguments\":[]}", "A frame's \"invocationId\" was not a string" },
        { "a cancel without the call's id", "{\"type\":5}", "A cancel (type 5) had no \"invocationId\"" },
        { "headers that are not strings", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"GetConnectionInfo\",\"arguments\":[],\"headers\":{\"a\":5}}",
            "A frame's \"headers\" was not a JSON object whose values are strings" },
        { "null headers (SignalR refuses them too)", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"GetConnectionInfo\",\"arguments\":[],\"headers\":null}",
            "A frame's \"headers\" was not a JSON object whose values are strings" },
        { "a message type the protocol does not have", "{\"type\":99}", "A frame's \"type\" is not a message type of SignalR's JSON hub protocol (1 to 9)" },
        // With an "item" after the id SignalR's parser took either for a stream item it could not bind and dropped it unanswered.
        { "a message type the protocol does not have, with an item", "{\"type\":99,\"invocationId\":\"x\",\"item\":1}", "A frame's \"type\" is not a message type of SignalR's JSON hub protocol (1 to 9)" },
        { "no type, with an item", "{\"invocationId\":\"x\",\"item\":1}", "A frame's \"type\" was missing or not a whole number" },
        { "a stream item whose item is not JSON", "{\"type\":2,\"invocationId\":\"x\",\"item\":[1,}", "A frame was not valid JSON" },
        // Each of these had the one generic sentence, which pointed at the wrong thing.
        { "a field in another case", "{\"Type\":1,\"invocationId\":\"x\",\"target\":\"GetConnectionInfo\",\"arguments\":[]}",
            "A frame's \"Type\" is spelled \"type\" in the protocol: its field names match exactly" },
        { "arguments in another case", "{\"type\":1,\"invocationId\":\"x\",\"target\":\"GetConnectionInfo\",\"Arguments\":[]}",
            "A frame's \"Arguments\" is spelled \"arguments\"" },
        // SignalR ran it as a call that wants no answer: the join was made, and the client waited for ever.
        { "a call's id in another case", "{\"type\":1,\"InvocationId\":\"x\",\"target\":\"JoinRoom\",\"arguments\":[\"lobby\"]}",
            "A frame's \"InvocationId\" is spelled \"invocationId\"" },
        { "a stream invocation without an id", "{\"type\":4,\"target\":\"JoinRoom\",\"arguments\":[\"lobby\"]}",
            "A stream invocation (type 4) had no \"invocationId\"; the chat hub has no streaming methods anyway: call 'JoinRoom' with an invocation (message type 1)" },
        { "a cancel with an empty id", "{\"type\":5,\"invocationId\":\"\"}", "A cancel (type 5) had no \"invocationId\"" },
        { "a stream item without its item", "{\"type\":2,\"invocationId\":\"s1\"}", "A stream item (type 2) needs an \"invocationId\" naming its stream and an \"item\"" },
        { "a stream item without its stream", "{\"type\":2,\"item\":\"x\"}", "A stream item (type 2) needs an \"invocationId\"" },
        { "a completion with a result and an error", "{\"type\":3,\"invocationId\":\"zz\",\"result\":1,\"error\":\"x\"}",
            "A completion (type 3) had both a \"result\" and an \"error\"" },
        { "an ack without its sequence", "{\"type\":8}", "An ack (type 8) had no \"sequenceId\"" },
        { "a sequence id in quotes", "{\"type\":9,\"sequenceId\":\"a\"}", "A frame's \"sequenceId\" was not a whole number" },
        { "a ping with arguments that are not an array", "{\"type\":6,\"arguments\":5}", "A frame's \"arguments\" was not an array" },
        { "a null sequence id, which the parser takes for none, on a call without arguments", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"GetConnectionInfo\",\"sequenceId\":null}",
            "An invocation of 'GetConnectionInfo' had no \"arguments\"" },
        { "a header in another case beside a missing argument list", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"GetConnectionInfo\",\"Headers\":{}}",
            "An invocation of 'GetConnectionInfo' had no \"arguments\"" },
        { "a cancel with a target that is not a string", "{\"type\":5,\"invocationId\":\"x\",\"target\":5}", "A frame's \"target\" was not a string" },
        { "a lone surrogate in the call's id", "{\"type\":1,\"invocationId\":\"a\\ud800\",\"target\":\"GetConnectionInfo\",\"arguments\":[]}",
            "A frame held a string that is not valid Unicode text" },
        { "a lone surrogate in the target", "{\"type\":1,\"invocationId\":\"a\",\"target\":\"Get\\ud800\",\"arguments\":[]}",
            "A frame held a string that is not valid Unicode text" },
        // SignalR ran the first and dropped the second without a word.
        { "two messages without a separator between", "{\"type\":1,\"target\":\"JoinRoom\",\"arguments\":[\"lobby\"]}{\"type\":1,\"target\":\"LeaveRoom\",\"arguments\":[\"lobby\"]}",
            "A frame held something after its message: each message is one JSON object followed by the 0x1E separator" },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task A_malformed_frame_closes_only_that_connection_in_our_words(string @case, string frame, string error)
    {
        await using var mallory = await RawWebSocketClient.ConnectAsync(fixture.Gateway, TestTokens.Create(Unique("mallory")), _ct);

        await mallory.SendAsync(frame + RawWebSocketClient.RecordSeparator, _ct);

        var (closed, frames) = await mallory.ReadUntilClosedAsync(ChatTestClient.Delivery);
        Assert.True(closed, @case);
        var close = frames.Select(f => JsonDocument.Parse(f).RootElement).Single(f => f.GetProperty("type").GetInt32() == 7);
        Assert.Contains(error, close.GetProperty("error").GetString());
        HostileInput.AssertNoInternals(string.Join("\n", frames));
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task A_call_whose_id_is_in_another_case_is_refused_before_it_runs()
    {
        var room = Unique("misspelt");
        await using var mallory = await RawWebSocketClient.ConnectAsync(fixture.Gateway, TestTokens.Create(Unique("mallory")), _ct);

        // SignalR reads no "InvocationId": the join ran as a call wanting no answer, and the client waited for one.
        await mallory.SendAsync($"{{\"type\":1,\"InvocationId\":\"x\",\"target\":\"JoinRoom\",\"arguments\":[\"{room}\"]}}" + RawWebSocketClient.RecordSeparator, _ct);
        Assert.True(await mallory.ClosedByServerWithinAsync(ChatTestClient.Delivery));

        await using var observer = await RawWebSocketClient.ConnectAsync(fixture.Gateway, TestTokens.Create(Unique("observer")), _ct);
        await observer.SendAsync($"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"GetRoomStats\",\"arguments\":[\"{room}\"]}}" + RawWebSocketClient.RecordSeparator, _ct);
        var (_, frames) = await observer.ReadUntilClosedAsync(TimeSpan.FromSeconds(2));
        var stats = frames.Select(f => JsonDocument.Parse(f).RootElement).Single(f => f.GetProperty("type").GetInt32() == 3);
        Assert.True(stats.TryGetProperty("result", out var result), string.Join("\n", frames));
        Assert.Equal(0, result.GetProperty("members").GetInt32()); // the join never ran
    }

    [Fact]
    public async Task Arguments_that_do_not_fit_are_refused_saying_what_the_method_takes_and_the_connection_stays()
    {
        await using var mallory = await RawWebSocketClient.ConnectAsync(fixture.Gateway, TestTokens.Create(Unique("mallory")), _ct);

        await mallory.SendAsync("{\"type\":1,\"invocationId\":\"7\",\"target\":\"JoinRoom\",\"arguments\":[{\"name\":\"lobby\"}]}" + RawWebSocketClient.RecordSeparator, _ct);
        // A lone surrogate is valid JSON but cannot become a .NET string: refused saying so.
        await mallory.SendAsync("{\"type\":1,\"invocationId\":\"9\",\"target\":\"SendMessage\",\"arguments\":[\"lobby\",\"c-1\",\"half \\ud800 a pair\"]}" + RawWebSocketClient.RecordSeparator, _ct);
        await mallory.SendAsync("{\"type\":1,\"invocationId\":\"8\",\"target\":\"GetConnectionInfo\",\"arguments\":[]}" + RawWebSocketClient.RecordSeparator, _ct);

        var (closed, frames) = await mallory.ReadUntilClosedAsync(TimeSpan.FromSeconds(3));
        Assert.False(closed);
        var answers = frames.Select(f => JsonDocument.Parse(f).RootElement).Where(f => f.GetProperty("type").GetInt32() == 3).ToList();
        Assert.Equal("JoinRoom: the arguments sent do not fit; it takes (room: string).", answers.Single(a => a.GetProperty("invocationId").GetString() == "7").GetProperty("error").GetString());
        Assert.Equal("SendMessage: the strings sent must be valid Unicode (UTF-8, and an escaped surrogate must come in a pair); it takes (room: string, clientMessageId: string, text: string).",
            answers.Single(a => a.GetProperty("invocationId").GetString() == "9").GetProperty("error").GetString());
        Assert.True(answers.Single(a => a.GetProperty("invocationId").GetString() == "8").TryGetProperty("result", out _));
        HostileInput.AssertNoInternals(string.Join("\n", frames));
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task A_call_with_a_stray_item_property_is_answered_and_a_stream_item_for_no_stream_is_ignored()
    {
        await using var mallory = await RawWebSocketClient.ConnectAsync(fixture.Gateway, TestTokens.Create(Unique("mallory")), _ct);
        var room = Unique("stray");

        // "item" belongs to stream items (type 2); after the id, SignalR's parser took each of these calls for one it
        // could not bind and dropped it: the caller waited for ever.
        await mallory.SendAsync($"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"JoinRoom\",\"arguments\":[\"{room}\"],\"item\":1}}" + RawWebSocketClient.RecordSeparator, _ct);
        await mallory.SendAsync("{\"type\":2,\"invocationId\":\"no-such-stream\",\"item\":{\"a\":[1,2]}}" + RawWebSocketClient.RecordSeparator, _ct);
        await mallory.SendAsync("{\"type\":2,\"item\":1,\"invocationId\":\"no-such-stream\"}" + RawWebSocketClient.RecordSeparator, _ct); // was refused as malformed
        await mallory.SendAsync($"{{\"type\":1,\"invocationId\":\"2\",\"target\":\"GetRoomMembers\",\"item\":null,\"arguments\":[\"{room}\"]}}" + RawWebSocketClient.RecordSeparator, _ct);

        var (closed, frames) = await mallory.ReadUntilClosedAsync(TimeSpan.FromSeconds(3));
        Assert.False(closed);
        var answers = frames.Select(f => JsonDocument.Parse(f).RootElement).Where(f => f.GetProperty("type").GetInt32() == 3).ToList();
        Assert.True(answers.Single(a => a.GetProperty("invocationId").GetString() == "1").TryGetProperty("result", out _), string.Join("\n", frames));
        var members = answers.Single(a => a.GetProperty("invocationId").GetString() == "2");
        Assert.Single(members.GetProperty("result").EnumerateArray()); // the join was made: mallory is the room's one member
        await fixture.AssertBystandersStillChatAsync();
    }

    public static TheoryData<string, string, string> BadHandshakes => new()
    {
        { "truncated JSON", "{\"protocol\":\"json\",\"version\":1", "The handshake is not valid JSON" },
        { "a version as text", "{\"protocol\":\"json\",\"version\":\"1\"}", "The handshake must be a JSON object like {\"protocol\":\"json\",\"version\":1}" },
        { "an array", "[\"json\",1]", "The handshake must be a JSON object" },
        { "no protocol", "{\"version\":1}", "The handshake must be a JSON object" },
        { "a protocol name with a lone surrogate", "{\"protocol\":\"\\ud800json\",\"version\":1}", "The handshake is not valid JSON" },
        // SignalR's own answers to these repeated what the client sent and did not say what was expected.
        { "an unknown protocol", "{\"protocol\":\"<b>xml</b>\",\"version\":1}", "This gateway speaks only the JSON hub protocol (no MessagePack or other): send {\"protocol\":\"json\",\"version\":1}" },
        { "MessagePack", "{\"protocol\":\"messagepack\",\"version\":1}", "This gateway speaks only the JSON hub protocol" },
        { "version 0", "{\"protocol\":\"json\",\"version\":0}", "This gateway speaks versions 1 to 2 of the JSON hub protocol: send {\"protocol\":\"json\",\"version\":1}" },
        { "a negative version", "{\"protocol\":\"json\",\"version\":-1}", "This gateway speaks versions 1 to 2 of the JSON hub protocol" },
        { "a version from the future", "{\"protocol\":\"json\",\"version\":99}", "This gateway speaks versions 1 to 2 of the JSON hub protocol" },
        // Read by SignalR and by a check each their own way, a key named twice got SignalR's "An unexpected error occurred".
        { "the protocol named twice", "{\"protocol\":5,\"protocol\":\"json\",\"version\":1}", "The handshake names 'protocol' twice" },
        { "the version named twice", "{\"protocol\":\"json\",\"version\":\"x\",\"version\":1}", "The handshake names 'version' twice" },
        { "a whole handshake past the size limit", "{\"protocol\":\"json\",\"version\":1,\"padding\":\"" + new string('x', 40_000) + "\"}", "The handshake is larger than 4096 bytes" },
    };

    [Theory]
    [MemberData(nameof(BadHandshakes))]
    public async Task A_malformed_handshake_is_answered_in_our_words(string @case, string handshake, string error)
    {

        var (mallory, answer) = await RawWebSocketClient.OpenAsync(fixture.Gateway, TestTokens.Create(Unique("mallory")), handshake + RawWebSocketClient.RecordSeparator, _ct);
        await using var _ = mallory;

        Assert.NotNull(answer);
        // The whole record in one WebSocket message: the JavaScript client reads the answer from one message.
        Assert.EndsWith(RawWebSocketClient.RecordSeparator.ToString(), answer, StringComparison.Ordinal);
        Assert.Contains(error, JsonDocument.Parse(answer.TrimEnd(RawWebSocketClient.RecordSeparator)).RootElement.GetProperty("error").GetString());
        HostileInput.AssertNoInternals(answer);
        Assert.True(await mallory.ClosedByServerWithinAsync(ChatTestClient.Delivery), @case);
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task Health_answers_with_its_status_only()
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };

        Assert.Equal("{\"status\":\"Healthy\"}", await http.GetStringAsync("/health", _ct));
    }

    [Fact]
    public async Task A_history_request_that_Redis_would_reject_is_a_client_mistake_not_an_outage()
    {
        await using var mallory = await ChatTestClient.ConnectAsync(fixture.Gateway, Unique("mallory"), _ct);
        await mallory.Chat.JoinRoomAsync("lobby");

        foreach (var id in (string[])["1764000000000-0\0", "1764000000000-18446744073709551616"])
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => mallory.Chat.GetMessagesAsync("lobby", id, 10));
            Assert.Contains("'afterMessageId' must be a message id the server returned", refused.Message);
            Assert.DoesNotContain("unreachable", refused.Message);
        }

        // Ranges Redis rejects as errors, empty by definition: answered as the empty pages they are.
        Assert.Empty(await mallory.Chat.GetMessagesAsync("lobby", "18446744073709551615-18446744073709551615", 10));
        Assert.Empty(await mallory.Chat.GetOlderMessagesAsync("lobby", "0-0", 10));
        Assert.Empty(await mallory.Chat.GetMessagesAsync("lobby", "18446744073709551615-18446744073709551614", 10));
        Assert.DoesNotContain("Redis unavailable", fixture.Cluster.A.Output);
        await fixture.AssertBystandersStillChatAsync();
    }

    [Fact]
    public async Task A_development_token_does_not_open_the_ops_snapshot_but_the_ops_key_does()
    {
        using var http = new HttpClient { BaseAddress = fixture.Gateway };

        Assert.Equal(HttpStatusCode.Forbidden, await HostileClientTests.OpsSnapshotStatusAsync(http, await ChatTestClient.GetTokenAsync(fixture.Gateway, "self-made", _ct), key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await HostileClientTests.OpsSnapshotStatusAsync(http, bearer: null, key: "a-guessed-key-that-is-long-enough-0123456789"));
        Assert.Equal(HttpStatusCode.OK, await HostileClientTests.OpsSnapshotStatusAsync(http, bearer: null, GatewayCluster.OpsAccessKey));
    }
}
