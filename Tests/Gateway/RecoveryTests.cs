using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>Things break (a replica killed, Redis restarted); every acknowledged message still arrives, once.</summary>
public sealed class RecoveryTests
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(45);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_whose_replica_died_reconnects_rejoins_and_gets_every_missed_message_exactly_once()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        var room = Unique("gap");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        await alice.Chat.SendMessageAsync(room, "m-1", "before the crash");
        Assert.Equal(1, (await bob.NextMessageAsync()).Sequence);

        await cluster.B.KillAsync();
        for (var i = 2; i <= 6; i++)
        {
            await alice.Chat.SendMessageAsync(room, $"m-{i}", $"while bob is away {i}");
        }

        await cluster.B.StartAgainAsync(_ct);
        var received = await bob.MessagesUntilAsync(room, 6, Recovery);
        await alice.Chat.SendMessageAsync(room, "m-7", "after bob is back");
        received = [.. received, .. await bob.MessagesUntilAsync(room, 7, ChatTestClient.Delivery)];

        Assert.Equal([2L, 3L, 4L, 5L, 6L, 7L], received.Select(m => m.Sequence));
        Assert.Equal(received.Count, received.Select(m => m.Id).Distinct().Count());
        Assert.Equal(HubConnectionState.Connected, bob.Chat.State);
    }

    // Redis failing between a join's registry write and its SUBSCRIBE left the connection listed in the room on its
    // replica with no subscription: the client heard the join failed, and its retry found it "already in" and
    // subscribed nothing, so it heard nothing live in that room (and the client library kept the failed queue, unread).
    // Redis refusing SUBSCRIBE (an ACL rule) stands in for that moment here: every other command gets through.
    [Fact]
    public async Task A_join_whose_subscription_failed_leaves_nothing_behind_and_the_retried_join_hears_the_room_live()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        await using var admin = await cluster.Redis.AdminAsync();
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var room = Unique("unsubscribed");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);

        await server.ExecuteAsync("ACL", "SETUSER", "default", "-subscribe");
        try
        {
            await Assert.ThrowsAsync<HubException>(() => alice.Chat.JoinRoomAsync(room));
        }
        finally
        {
            await server.ExecuteAsync("ACL", "SETUSER", "default", "+subscribe");
        }

        // Not half in: nobody is listed in the room.
        await bob.Chat.JoinRoomAsync(room);
        Assert.Equal(1, (await bob.Chat.GetRoomStatsAsync(room))!.Members);

        await alice.Chat.JoinRoomAsync(room); // the client's retry
        var ack = await bob.Chat.SendMessageAsync(room, "m-1", "heard live?");
        Assert.Equal(ack.MessageId, (await alice.NextMessageAsync()).Id);
    }

    [Fact]
    public async Task A_member_back_to_a_room_with_a_new_epoch_hears_of_lost_messages_only_if_it_had_been_shown_some()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var (quiet, talked) = (Unique("quiet"), Unique("talked"));
        await using var alice = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        var quietEpoch = (await alice.Chat.JoinRoomAsync(quiet)).Epoch;
        await alice.Chat.JoinRoomAsync(talked);
        await bob.Chat.JoinRoomAsync(talked);
        await bob.Chat.SendMessageAsync(talked, "t-1", "seen by alice");
        Assert.Equal(1, (await alice.NextMessageAsync()).Sequence);

        // While Alice is away, the room nobody wrote in loses its counter (as its hour's grace would have it) and the
        // other room loses its storage.
        await cluster.B.KillAsync();
        var db = redis.GetDatabase();
        await db.KeyDeleteAsync(RealtimeDemo.ServerShared.ChatRedisKeys.RoomCounter(quiet));
        await db.KeyDeleteAsync([RealtimeDemo.ServerShared.ChatRedisKeys.RoomCounter(talked), RealtimeDemo.ServerShared.ChatRedisKeys.RoomHistory(talked)]);
        await cluster.B.StartAgainAsync(_ct);
        await Eventually.HoldsAsync(() => Task.FromResult(!alice.Outages.IsEmpty && !alice.CutOff), Recovery, "Alice back, her rooms rejoined");

        await bob.Chat.JoinRoomAsync(quiet);
        var first = await bob.Chat.SendMessageAsync(quiet, "q-1", "the room's first words");
        Assert.NotEqual(quietEpoch, first.Epoch);
        Assert.Contains(await alice.MessagesUntilIdAsync(first.MessageId, ChatTestClient.Delivery), m => m.Id == first.MessageId);
        Assert.Equal([talked], alice.RoomResets); // the quiet room lost nothing she had been shown
    }

    [Fact]
    public async Task Across_a_Redis_restart_every_acknowledged_message_reaches_the_other_replica_exactly_once()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        var room = Unique("restart");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        await alice.Chat.SendMessageAsync(room, "m-1", "before the restart");

        await cluster.Redis.RestartAsync(TimeSpan.FromSeconds(1), _ct);
        var refusals = new List<string>();
        for (var i = 2; i <= 4; i++)
        {
            refusals.AddRange((await alice.SendUntilStoredAsync(room, $"m-{i}", $"around the restart {i}", Recovery)).Refusals);
        }

        var received = await bob.MessagesUntilAsync(room, 4, Recovery);
        Assert.Equal([1L, 2L, 3L, 4L], received.Select(m => m.Sequence));
        Assert.Equal(["before the restart", "around the restart 2", "around the restart 3", "around the restart 4"], received.Select(m => m.Text));
        Assert.Equal(4, (await bob.Chat.GetRoomStatsAsync(room)).Messages);
        Assert.All(refusals, r => Assert.True(r.Contains("Chat storage (Redis) is unreachable right now", StringComparison.Ordinal), r));
        TestContext.Current.SendDiagnosticMessage($"sends refused while Redis was down: {refusals.Count}");
    }

    [Fact]
    public async Task A_Redis_frozen_until_its_sockets_are_taken_for_dead_is_ridden_out_by_the_gateway_and_the_worker()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        var worker = await cluster.StartWorkerAsync("worker-1", _ct);
        var room = Unique("frozen");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await alice.Chat.SendMessageAsync(room, "m-0", "before the freeze");

        // Past about 20 s without an answer StackExchange.Redis takes its sockets for dead and fails the commands still
        // waiting with a cancellation (not a RedisException): that stopped every background loop, and the processes.
        // Frozen until both have said so (and a second more), so the test always reaches that point.
        const string DeadSocket = "Dead socket detected";
        var refusals = new List<string>();
        cluster.Redis.Freeze(true);
        try
        {
            var frozenFor = System.Diagnostics.Stopwatch.StartNew();
            while (!(cluster.A.Output.Contains(DeadSocket) && worker.Output.Contains(DeadSocket)) && frozenFor.Elapsed < TimeSpan.FromSeconds(60))
            {
                try
                {
                    await alice.Chat.SendMessageAsync(room, $"f-{frozenFor.ElapsedMilliseconds}", "while Redis is frozen");
                }
                catch (HubException ex)
                {
                    refusals.Add(ex.Message);
                    Assert.True(ChatClient.MayHaveBeenStored(ex), ex.Message); // a write that timed out may have been done
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(1), _ct);
        }
        finally
        {
            cluster.Redis.Freeze(false);
        }

        Assert.Contains(DeadSocket, cluster.A.Output);
        Assert.Contains(DeadSocket, worker.Output);
        Assert.NotEmpty(refusals);
        Assert.All(refusals, r => Assert.Equal("Chat storage (Redis) is unreachable right now; try again in a moment. Resending with the same clientMessageId never stores a message twice.", r));
        var last = (await alice.SendUntilStoredAsync(room, "m-1", "after the freeze", Recovery)).Ack;
        await Eventually.HoldsAsync(async () => await alice.Chat.GetRoomStatsAsync(room) is { } stats && stats.ProcessedMessages == stats.Messages && stats.Messages >= last.Sequence,
            Recovery, "the worker processing what was sent after the freeze");
        foreach (var process in new[] { cluster.A, worker })
        {
            Assert.DoesNotContain("BackgroundService failed", process.Output);
            Assert.DoesNotContain("Application is shutting down", process.Output);
        }

        // The outage is logged once by each loop that met it, and its end with how long it lasted; not once a try.
        await Eventually.HoldsAsync(() => Task.FromResult(cluster.A.Output.Contains("Registry heartbeat gets through again after", StringComparison.Ordinal)
            && worker.Output.Contains("Redis answers again after", StringComparison.Ordinal)), Recovery, "the loops saying Redis is back");
        // (Once, or a few times if a reconnect in the middle got one try through: a try a second used to be ~20.)
        Assert.InRange(FailureVisibilityTests.Occurrences(cluster.A.Output, "Registry heartbeat failed ("), 1, 3);
        Assert.InRange(FailureVisibilityTests.Occurrences(worker.Output, "Redis unavailable ("), 1, 3);
    }

    [Fact]
    public async Task A_client_that_keeps_calling_while_Redis_is_frozen_is_not_closed_as_silent_and_the_ops_snapshot_says_why_it_cannot_answer()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, new Dictionary<string, string>
        {
            ["Chat__Limits__ClientTimeoutInterval"] = "00:00:05", // the test client pings every second
            ["Chat__Limits__KeepAliveInterval"] = "00:00:01",
        }, _ct);
        var room = Unique("frozen-list");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await alice.Chat.JoinRoomAsync(room);

        // As the frontend's room list does: a refresh every half second, not waiting for the last one, each of
        // which waits seconds for Redis. Her calls and pings queue up behind one another, unread.
        var calls = new List<Task>();
        cluster.Redis.Freeze(true);
        try
        {
            for (var i = 0; i < 20; i++)
            {
                calls.Add(alice.Chat.ListRoomsAsync(20));
                await Task.Delay(TimeSpan.FromMilliseconds(500), _ct);
            }

            // The ops snapshot, read from Redis, says so in a problem of ours (it was a 500 and a stack trace in the log).
            using var http = new HttpClient { BaseAddress = cluster.A.BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Get, ChatHubPaths.OpsSnapshot);
            request.Headers.Add(ChatHubPaths.OpsKeyHeader, GatewayCluster.OpsAccessKey);
            using var snapshot = await http.SendAsync(request, _ct);
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, snapshot.StatusCode);
            Assert.Contains("Chat storage (Redis) is unreachable right now, and the cluster's numbers are read from it.", await snapshot.Content.ReadAsStringAsync(_ct), StringComparison.Ordinal);
        }
        finally
        {
            cluster.Redis.Freeze(false);
        }

        await Task.WhenAll(calls.Select(call => call.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Recovery, _ct);
        Assert.True(alice.Outages.IsEmpty && !alice.CutOff, $"the connection broke: {alice.History}");
        // Those refused say why, without the advice for a send (a list has no client message id to resend with).
        var refusals = calls.Where(call => call.IsFaulted).Select(call => call.Exception!.InnerException!.Message).ToList();
        Assert.NotEmpty(refusals);
        Assert.All(refusals, r => Assert.Equal("Chat storage (Redis) is unreachable right now; try again in a moment.", r));
        Assert.DoesNotContain(LocalConnections.SilentSentence, alice.History, StringComparison.Ordinal);
        Assert.NotNull(await alice.Chat.GetRoomStatsAsync(room));
    }

    [Fact]
    public async Task When_a_replica_is_killed_its_users_leave_their_rooms_within_seconds()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        var room = Unique("cleanup");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        Assert.Equal(2, (await alice.Chat.GetRoomStatsAsync(room)).Members);

        var killedAt = DateTime.UtcNow;
        await cluster.B.KillAsync();

        Assert.Equal((room, bob.User), await alice.NextUserLeftAsync().WaitAsync(TimeSpan.FromSeconds(15), _ct));
        var cleanedUpAfter = DateTime.UtcNow - killedAt;
        Assert.Equal(1, (await alice.Chat.GetRoomStatsAsync(room)).Members);
        var error = await Assert.ThrowsAsync<HubException>(() => alice.Chat.SendPrivateMessageAsync(bob.User, "are you there?"));
        Assert.Contains("is not connected anywhere", error.Message);
        Assert.True(cleanedUpAfter < TimeSpan.FromSeconds(10), $"cleanup took {cleanedUpAfter.TotalSeconds:F1} s with a 3 s replica timeout");
    }

    [Fact]
    public async Task A_replica_paused_past_the_timeout_is_swept_and_puts_its_users_back_when_it_wakes_without_dropping_them()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        var room = Unique("nap");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        Assert.Equal((room, bob.User), await alice.NextUserJoinedAsync());

        cluster.B.Freeze(true); // as a long GC pause or a stalled VM would
        Assert.Equal((room, bob.User), await alice.NextUserLeftAsync().WaitAsync(TimeSpan.FromSeconds(15), _ct));
        cluster.B.Freeze(false);

        Assert.Equal((room, bob.User), await alice.NextUserJoinedAsync().WaitAsync(TimeSpan.FromSeconds(15), _ct));
        Assert.Equal(2, (await alice.Chat.GetRoomStatsAsync(room)).Members);
        await alice.Chat.SendMessageAsync(room, "after-nap", "welcome back");
        Assert.Equal("welcome back", (await bob.NextMessageAsync()).Text);
        Assert.DoesNotContain("Reconnecting", bob.History);
    }

    [Fact]
    public async Task A_user_who_disconnects_while_Redis_is_down_leaves_the_registry_once_it_is_back()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        var room = Unique("orphan");
        await using var watcher = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("watcher"), _ct);
        var leaver = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("leaver"), _ct);
        await watcher.Chat.JoinRoomAsync(room);
        await leaver.Chat.JoinRoomAsync(room);

        // Down longer than the Redis client's command timeout (5 s), so the disconnect's own cleanup fails.
        await cluster.Redis.RestartAsync(async () =>
        {
            await leaver.DisposeAsync();
            await Task.Delay(TimeSpan.FromSeconds(8), _ct);
        }, _ct);

        var deadline = DateTime.UtcNow + Recovery;
        while ((await StatsWhenReachableAsync(watcher, room)).Members != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the disconnected user is still counted as a member");
            await Task.Delay(500, _ct);
        }

        var error = await Assert.ThrowsAsync<HubException>(() => watcher.Chat.SendPrivateMessageAsync(leaver.User, "still there?"));
        Assert.Contains("is not connected anywhere", error.Message);
        Assert.Contains("Forgot 1 registry entries of this process whose connections are gone", cluster.A.Output);
        // The outage is the loops' to log, once; the Redis client logged an error at every reconnect try while Redis
        // was down (its "UnableToConnect", event 89: about 16 in these 8 s).
        Assert.DoesNotContain("StackExchange.Redis.ConnectionMultiplexer[89]", cluster.A.Output);
    }

    [Fact]
    public async Task The_cluster_wide_connection_limit_counts_connections_on_every_replica()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, new Dictionary<string, string> { ["Chat__Limits__MaxConnections"] = "2" }, _ct);
        await using var first = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, Unique("first"), _ct);
        await using var second = await RawHubConnection.ConnectAsync(cluster.B.BaseAddress, Unique("second"), _ct);

        await using var third = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, Unique("third"), _ct, confirm: false);

        Assert.Contains("the cluster-wide connection limit (Chat:Limits:MaxConnections) is reached", (await third.Closed)?.Message);
        Assert.Equal(HubConnectionState.Connected, first.Connection.State);
        await second.DisposeAsync();

        // The freed place is usable as soon as the server has handled the disconnect.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var fourth = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, Unique("fourth"), _ct, confirm: false);
            try
            {
                Assert.NotNull(await fourth.Connection.InvokeAsync<ConnectionDetails>("GetConnectionInfo", _ct));
                return;
            }
            // Still refused: the invocation fails, or the refusal's close got there first.
            catch (Exception ex) when (ex is HubException or InvalidOperationException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, _ct);
            }
        }
    }

    [Fact]
    public async Task Clients_of_a_killed_replica_reconnect_elsewhere_at_once_though_its_connections_still_count_against_the_limits()
    {
        // A long replica timeout: B's entries are all still in the registry when its clients come back.
        await using var cluster = await GatewayCluster.StartAsync(2, new Dictionary<string, string>
        {
            ["Chat__Registry__ReplicaTimeout"] = "00:01:00",
            ["Chat__Limits__MaxConnections"] = "4",
            ["Chat__Limits__MaxConnectionsPerUser"] = "2",
        }, _ct);
        var tabby = Unique("tabby");
        await using var bystander = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, Unique("bystander"), _ct);
        await using var firstTab = await RawHubConnection.ConnectAsync(cluster.B.BaseAddress, tabby, _ct);
        await using var secondTab = await RawHubConnection.ConnectAsync(cluster.B.BaseAddress, tabby, _ct);

        await cluster.B.KillAsync();

        // Counting B's two entries, the first would exceed the user's limit and the second the cluster's (a refusal
        // is final, so the tabs would have stayed disconnected).
        await using var firstBack = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, tabby, _ct);
        await using var secondBack = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, tabby, _ct);

        await using var third = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, tabby, _ct, confirm: false);
        Assert.EndsWith("Too many connections for this user (at most 2, Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.",
            (await third.Closed)?.Message);
        Assert.Equal(HubConnectionState.Connected, secondBack.Connection.State);
    }

    // A replica or proxy that takes a connection and never answers (stuck, or paused): SignalR's reconnect loop gives
    // its tries no timeout, so the client's first try there held it Reconnecting for as long as the stall lasted.
    [Fact]
    public async Task Reconnect_tries_that_are_never_answered_are_given_up_after_3_s_then_10_s_and_the_next_one_gets_through()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await using var relay = StallingRelay.Start(cluster.A.BaseAddress);
        var (room, user) = (Unique("stalled"), Unique("patient"));
        var token = await ChatTestClient.GetTokenAsync(cluster.A.BaseAddress, user, _ct);
        await using var alice = await ChatTestClient.StartAsync(user, new Client.ChatClient(new Uri(relay.Address, ChatHubPaths.Hub),
            () => Task.FromResult<string?>(token), TimeSpan.FromSeconds(1)), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);

        relay.Stall();
        // The first two reconnect tries are given 3 s each, the next ones 10 s (a start, 30 s unless the application
        // says otherwise). The first try goes at once, the next after 0.25 s and 0.5 s, the fourth after 1 s.
        var stalled = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.HoldsAsync(() => Task.FromResult(relay.StalledConnections >= 3), TimeSpan.FromSeconds(14),
            () => $"a third reconnect try once two were held for 3 s each ({alice.History})");
        var third = stalled.Elapsed;
        Assert.True(third > TimeSpan.FromSeconds(5.5), $"the third try came {third.TotalSeconds:F1} s after the stall");
        await Eventually.HoldsAsync(() => Task.FromResult(relay.StalledConnections >= 4), TimeSpan.FromSeconds(20),
            () => $"a fourth reconnect try once the third was held for 10 s ({alice.History})");
        Assert.True(stalled.Elapsed - third > TimeSpan.FromSeconds(8), $"the fourth try came {(stalled.Elapsed - third).TotalSeconds:F1} s after the third");
        relay.Relay();
        await Eventually.HoldsAsync(() => Task.FromResult(alice.Chat.State == HubConnectionState.Connected), Recovery, () => $"back ({alice.History})");

        await bob.Chat.SendMessageAsync(room, "c-1", "after the stall");
        Assert.Equal("after the stall", (await alice.NextMessageAsync()).Text);
    }

    // The killed replica's entries stay in the registry until it is swept: counted as online, the user got private
    // messages that went nowhere, acknowledged as sent.
    [Fact]
    public async Task A_private_message_to_a_user_whose_only_connection_died_with_its_replica_is_refused_not_lost()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, new Dictionary<string, string>
        {
            ["Chat__Registry__ReplicaTimeout"] = "00:01:00", // nothing is swept during the test
        }, _ct);
        var bob = Unique("bob");
        await using var alice = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bobsOnlyTab = await RawHubConnection.ConnectAsync(cluster.B.BaseAddress, bob, _ct);
        await alice.Connection.InvokeAsync<PrivateMessageAck>(ChatHubMethods.SendPrivateMessage, bob, "before", _ct);

        await cluster.B.KillAsync();

        var refused = await Assert.ThrowsAsync<HubException>(() => alice.Connection.InvokeAsync<PrivateMessageAck>(ChatHubMethods.SendPrivateMessage, bob, "after", _ct));
        Assert.Equal($"User '{bob}' is not connected anywhere in the chat.", refused.Message);
    }

    [Fact]
    public async Task A_client_back_with_its_id_replaces_the_connection_the_gateway_still_holds_even_at_the_users_limit()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, new Dictionary<string, string>
        {
            ["Chat__Limits__MaxConnectionsPerUser"] = "2",
        }, _ct);
        var tabby = Unique("tabby");
        var clientId = $"{ChatHubPaths.ClientIdParameter}={Guid.NewGuid():N}";
        // The first tab's network goes away without a close: the gateway (B) still holds its connection, open, when
        // the tab, on another network, connects again through A with the same id.
        await using var firstTab = await RawHubConnection.ConnectAsync(cluster.B.BaseAddress, tabby, _ct, query: clientId);
        await using var secondTab = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, tabby, _ct);

        await using var firstBack = await RawHubConnection.ConnectAsync(cluster.A.BaseAddress, tabby, _ct, query: clientId);

        // The connection it replaced is closed, with why, and told not to reconnect: a client still reading it shares
        // its id with another, and the two would otherwise take turns replacing each other.
        Assert.EndsWith(LocalConnections.ReplacedSentence, (await firstTab.Closed)?.Message);
        Assert.Equal(HubConnectionState.Connected, firstBack.Connection.State);
        await firstBack.Connection.InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, Unique("room"), _ct);

        // The limit still holds: a third client, with an id of its own, is refused.
        await using var third = await RawHubConnection.ConnectAsync(cluster.B.BaseAddress, tabby, _ct, confirm: false,
            query: $"{ChatHubPaths.ClientIdParameter}={Guid.NewGuid():N}");
        Assert.EndsWith("Too many connections for this user (at most 2, Chat:Limits:MaxConnectionsPerUser). Close another tab or client first.",
            (await third.Closed)?.Message);
        Assert.Equal(HubConnectionState.Connected, secondTab.Connection.State);
    }

    [Fact]
    public async Task A_connection_is_closed_when_its_token_expires()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        // Valid for 3 s more: it connects, then lapses. (A token already past its expiry is refused at the door.)
        await using var connection = RawHubConnection.Create(cluster.A.BaseAddress, TestTokens.Create("short-lived", expiresIn: TimeSpan.FromSeconds(3)));
        await connection.Connection.StartAsync(_ct);

        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(20), _ct);

        Assert.Equal(HubConnectionState.Disconnected, connection.Connection.State);
    }

    private static async Task<RoomStats> StatsWhenReachableAsync(ChatTestClient client, string room)
    {
        while (true)
        {
            try
            {
                return await client.Chat.GetRoomStatsAsync(room);
            }
            catch (HubException ex) when (ex.Message.Contains("Chat storage (Redis) is unreachable"))
            {
                await Task.Delay(250);
            }
        }
    }

}
