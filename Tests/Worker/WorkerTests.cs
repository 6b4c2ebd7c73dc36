using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.ServerShared;
using RealtimeDemo.Tests.Infrastructure;
using StackExchange.Redis;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Worker;

/// <summary>The worker against a real redis-server, as real processes: stopped, killed, doubled, poisoned, restarted.</summary>
public sealed class WorkerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Messages_sent_while_the_worker_is_stopped_are_all_processed_once_it_starts()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        var room = Unique("offline");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        for (var i = 0; i < 25; i++)
        {
            await alice.Chat.SendMessageAsync(room, $"m-{i}", $"message {i}");
        }

        Assert.Equal(0, (await alice.Chat.GetRoomStatsAsync(room)).ProcessedMessages);
        await cluster.StartWorkerAsync("worker-1", _ct);

        await WaitForAsync(async () => (await alice.Chat.GetRoomStatsAsync(room)).ProcessedMessages == 25, "25 processed messages");
        var stats = await alice.Chat.GetRoomStatsAsync(room);
        Assert.Equal((25L, 25L, 1), (stats.Messages, stats.ProcessedMessages, stats.ActiveSenders));
    }

    [Fact]
    public async Task A_worker_killed_mid_batch_loses_nothing_and_its_replacement_counts_and_notifies_each_message_once()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        const string room = "bulk";
        await using var watcher = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("watcher"), _ct);
        await watcher.Chat.JoinRoomAsync(room);
        var notices = 0;
        watcher.Chat.MessageModerated += _ => Task.FromResult(Interlocked.Increment(ref notices));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        await AppendEntriesAsync(redis.GetDatabase(), room, count: 20_000, blockedEvery: 100);

        var first = await cluster.StartWorkerAsync("worker-1", _ct);
        await WaitForAsync(async () => await ProcessedAsync(redis, room) > 2_000, "the first worker under way");
        await first.KillAsync();
        var processedWhenKilled = await ProcessedAsync(redis, room);
        await cluster.StartWorkerAsync("worker-2", _ct);

        await WaitForAsync(async () => await ProcessedAsync(redis, room) == 20_000, "all 20,000 processed", TimeSpan.FromSeconds(90));
        await WaitForAsync(() => Task.FromResult(Volatile.Read(ref notices) >= 200), "200 notices");
        // A sentinel instead of a wait: one more blocked message; its notice comes after any late repeat of the others.
        await AppendEntriesAsync(redis.GetDatabase(), room, count: 1, blockedEvery: 1, firstIndex: 20_000);
        await WaitForAsync(() => Task.FromResult(Volatile.Read(ref notices) >= 201), "the sentinel's notice");

        Assert.InRange(processedWhenKilled, 2_001, 19_999); // it really died mid-stream
        Assert.Equal(20_001, await ProcessedAsync(redis, room));
        Assert.Equal(201, (long)await redis.GetDatabase().HashGetAsync(ChatRedisKeys.RoomActivity(room), "moderated"));
        Assert.Equal(201, Volatile.Read(ref notices));
        Assert.Equal(0, (await redis.GetDatabase().StreamPendingAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup)).PendingMessageCount);
    }

    [Fact]
    public async Task Two_workers_share_the_stream_and_no_entry_is_processed_by_both()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(1, otlp.ExporterSettings("realtime-gateway"), _ct);
        await cluster.StartWorkerAsync("worker-1", _ct);
        await cluster.StartWorkerAsync("worker-2", _ct);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);

        await AppendEntriesAsync(redis.GetDatabase(), "shared", count: 5_000, blockedEvery: 0);

        await WaitForAsync(async () => await ProcessedAsync(redis, "shared") == 5_000, "5,000 processed", TimeSpan.FromSeconds(60));
        await otlp.WaitUntilAsync(r => ProcessedBy(r).Values.Sum() == 5_000, TimeSpan.FromSeconds(15), "the workers' counts");
        var byWorker = ProcessedBy(otlp);
        Assert.Equal(["worker-1", "worker-2"], byWorker.Keys.Order());
        Assert.All(byWorker.Values, count => Assert.True(count > 0, "one worker did all the work"));
        Assert.DoesNotContain(otlp.Metrics, m => m.Name == "chat.worker.messages" && m.Attribute("chat.outcome") == "duplicate" && m.Value > 0);
    }

    [Fact]
    public async Task A_poison_entry_goes_to_the_dead_letter_stream_after_its_attempts_without_holding_up_the_rest()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await cluster.StartWorkerAsync("worker-1", _ct);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var db = redis.GetDatabase();

        var poison = await db.StreamAddAsync(ChatRedisKeys.MessageStream, [new NameValueEntry("user", "mallory"), new NameValueEntry("text", "no room")]);
        await AppendEntriesAsync(db, "behind", count: 10, blockedEvery: 0);

        await WaitForAsync(async () => await ProcessedAsync(redis, "behind") == 10, "the 10 entries behind it", TimeSpan.FromSeconds(3));
        await WaitForAsync(async () => await db.StreamLengthAsync(ChatRedisKeys.DeadLetters) == 1, "a dead letter");
        var dead = Assert.Single(await db.StreamRangeAsync(ChatRedisKeys.DeadLetters));
        Assert.Equal((string?)poison, (string?)dead["id"]);
        Assert.Equal($"entry {poison} has no 'room' field", (string?)dead["reason"]);
        Assert.Equal(3, (int)dead["attempts"]);
        Assert.Equal("no room", (string?)dead["text"]); // the entry itself is kept, so it can be looked at and replayed
        Assert.Equal(0, (await db.StreamPendingAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup)).PendingMessageCount);
    }

    [Fact]
    public async Task An_entry_with_a_name_no_client_could_send_or_one_Redis_refuses_to_record_is_dead_lettered_not_lost()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await cluster.StartWorkerAsync("worker-1", _ct);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var db = redis.GetDatabase();

        // A room name the gateway would never have stored (it makes key names), and a room whose statistics key is
        // not a hash: the script fails after nothing is written, and the entry must stay pending to be retried.
        var badName = await db.StreamAddAsync(ChatRedisKeys.MessageStream,
            [new NameValueEntry("room", "bad room"), new NameValueEntry("user", "mallory"), new NameValueEntry("text", "spaces")]);
        var wrongType = Unique("wrongtype");
        await db.StringSetAsync(ChatRedisKeys.RoomActivity(wrongType), "not a hash");
        var refused = await db.StreamAddAsync(ChatRedisKeys.MessageStream,
            [new NameValueEntry("room", wrongType), new NameValueEntry("user", "mallory"), new NameValueEntry("text", "refused")]);

        await WaitForAsync(async () => await db.StreamLengthAsync(ChatRedisKeys.DeadLetters) == 2, "two dead letters");
        var dead = await db.StreamRangeAsync(ChatRedisKeys.DeadLetters);
        Assert.Equal($"entry {badName} has a 'room' or 'user' that is not a valid name", (string?)dead.Single(d => d["id"] == badName)["reason"]);
        Assert.Equal("RedisServerException while processing", (string?)dead.Single(d => d["id"] == refused)["reason"]);
        Assert.All(dead, d => Assert.Equal(3, (int)d["attempts"]));
        Assert.False(await db.KeyExistsAsync(ChatRedisKeys.RoomActivity("bad room")));
        Assert.Equal(0, (await db.StreamPendingAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup)).PendingMessageCount);
        Assert.False(await db.HashExistsAsync(ChatRedisKeys.WorkerAttempts, refused));
    }

    [Fact]
    public async Task A_blocked_word_gets_exactly_one_notice_to_members_on_every_replica_and_a_mark_in_the_history()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        await cluster.StartWorkerAsync("worker-1", _ct);
        var room = Unique("moderated");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        var received = new[] { 0, 0 };
        // Counted on the wire, before ChatClient would drop a repeat.
        alice.Chat.Connection.On<ModerationNotice>(nameof(IChatClient.MessageModerated), _ => Interlocked.Increment(ref received[0]));
        bob.Chat.Connection.On<ModerationNotice>(nameof(IChatClient.MessageModerated), _ => Interlocked.Increment(ref received[1]));
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);

        var ack = await alice.Chat.SendMessageAsync(room, "m-1", "Buy cheap SPAM now");
        await alice.Chat.SendMessageAsync(room, "m-2", "a spammer is not spam"); // "spammer" is not the word; "spam" is
        await alice.Chat.SendMessageAsync(room, "m-3", "nothing to see");

        await WaitForAsync(() => Task.FromResult(received.All(r => r > 0)), "a notice on both replicas");
        await WaitForAsync(async () => (await alice.Chat.GetRoomStatsAsync(room)).ProcessedMessages == 3, "all three processed");
        Assert.Equal([2, 2], received); // m-1 and m-2 each once, at each member
        var history = await bob.Chat.GetMessagesAsync(room, null, 10);
        Assert.Equal(["blocked-word", "blocked-word", null], history.Select(m => m.Moderation));
        Assert.Equal(ack.MessageId, history[0].Id);
        Assert.Equal(2, (await alice.Chat.GetRoomStatsAsync(room)).ModeratedMessages);
    }

    [Fact]
    public async Task The_worker_rides_out_a_Redis_restart_and_loses_nothing()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await cluster.StartWorkerAsync("worker-1", _ct);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{cluster.Redis.ConnectionString},abortConnect=false");
        await AppendEntriesAsync(redis.GetDatabase(), "restart", count: 500, blockedEvery: 0);

        await cluster.Redis.RestartAsync(TimeSpan.FromSeconds(2), _ct);
        await WaitForAsync(async () =>
        {
            try
            {
                await AppendEntriesAsync(redis.GetDatabase(), "restart", count: 500, blockedEvery: 0, firstIndex: 500);
                return true;
            }
            catch (RedisException)
            {
                return false;
            }
        }, "Redis back");

        await WaitForAsync(async () => await ProcessedAsync(redis, "restart") == 1_000, "all 1,000 processed");
    }

    // Started before Redis (by hand, or by an orchestrator that does not order starts): the Redis client logged two
    // errors of its own with its state dump ("Connection failed: … (Interactive, UnableToConnect)", then Subscription)
    // besides the worker's warning, three lines for one outage.
    [Fact]
    public async Task A_worker_started_before_Redis_says_so_once_in_our_words_and_works_once_Redis_is_up()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        ServiceProcess? worker = null;
        await cluster.Redis.RestartAsync(async () =>
        {
            worker = await cluster.StartWorkerAsync("early", _ct, untilHealthy: false);
            await WaitForAsync(() => Task.FromResult(worker.Output.Contains("Redis unavailable (RedisConnectionException)", StringComparison.Ordinal)),
                "the worker saying that Redis is out of reach");
        }, _ct);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        await AppendEntriesAsync(redis.GetDatabase(), "early", count: 10, blockedEvery: 0);
        await WaitForAsync(async () => await ProcessedAsync(redis, "early") == 10, "all 10 processed");

        // The line is logged as the first read succeeds, and reaches the captured output a moment after the
        // entries were processed (it failed one CI run in the assertion that read it at once).
        await WaitForAsync(() => Task.FromResult(worker!.Output.Contains("Redis answers again after", StringComparison.Ordinal)), "the worker saying Redis is back");
        var log = worker!.Output;
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(log, "Redis unavailable"));
        Assert.DoesNotContain("fail: StackExchange.Redis", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_worker_reports_unhealthy_when_its_lag_passes_the_threshold_and_logs_why()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        var worker = await cluster.StartWorkerAsync("worker-1", _ct, new Dictionary<string, string>
        {
            ["Worker__LagThreshold"] = "00:00:02",
            ["Worker__MaxAttempts"] = "100", // the poison entry below stays pending: the lag grows
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        await redis.GetDatabase().StreamAddAsync(ChatRedisKeys.MessageStream, "garbage", "1");
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };

        JsonElement report = default;
        await WaitForAsync(async () =>
        {
            using var response = await http.GetAsync("/health", _ct);
            report = await response.Content.ReadFromJsonAsync<JsonElement>(_ct);
            return !response.IsSuccessStatusCode;
        }, "an unhealthy worker");

        // The answer is the status alone (check names are internals); the log says why.
        Assert.Equal("{\"status\":\"Unhealthy\"}", report.GetRawText());
        await WaitForAsync(() => Task.FromResult(worker.Output.Contains("is over Worker:LagThreshold (2 s); 1 entries pending")), "the reason in the log");

        // Once the entry is gone the worker is healthy again, and says so as news, not as another warning.
        var poison = (await redis.GetDatabase().StreamRangeAsync(ChatRedisKeys.MessageStream)).Single().Id;
        await redis.GetDatabase().StreamAcknowledgeAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup, poison);
        await redis.GetDatabase().StreamDeleteAsync(ChatRedisKeys.MessageStream, [poison]);
        await WaitForAsync(async () => (await http.GetAsync("/health", _ct)).IsSuccessStatusCode, "a healthy worker again");
        await WaitForAsync(() => Task.FromResult(worker.Output.Contains("Message stream backlog is Healthy again")), "the recovery in the log");
        var lines = worker.Output.Split('\n');
        var recovery = Array.FindIndex(lines, line => line.Contains("Message stream backlog is Healthy again", StringComparison.Ordinal));
        Assert.Contains("info: ", lines[recovery - 1], StringComparison.Ordinal); // the console logger's level line
    }

    [Fact]
    public async Task A_worker_that_cannot_read_its_stream_in_its_first_seconds_is_healthy_and_logs_no_unhealthy_status()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(1, otlp.ExporterSettings("realtime-gateway"), _ct);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var db = redis.GetDatabase();

        // Its first readings fail, as they do while Redis loads its data or before the consumer has made the stream
        // and its group (a race at every start on an empty Redis): a key of another type is in the way for 4 s.
        await db.StringSetAsync(ChatRedisKeys.MessageStream, "in the way");
        var cleared = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(4), _ct);
            await db.KeyDeleteAsync(ChatRedisKeys.MessageStream);
        }, _ct);

        // Starting asks /health until it answers healthy, as the AppHost does; an unhealthy answer is logged (an error
        // from the health check service, a warning from ours) and turns the worker's row in the dashboard red.
        var worker = await cluster.StartWorkerAsync("worker-1", _ct);
        await cleared;
        await WaitForAsync(async () => await db.KeyTypeAsync(ChatRedisKeys.MessageStream) == RedisType.Stream
            && (await db.StreamGroupInfoAsync(ChatRedisKeys.MessageStream)).Any(g => g.Name == ChatRedisKeys.WorkerGroup), "the stream and its group made");
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };
        Assert.True((await http.GetAsync("/health", _ct)).IsSuccessStatusCode);

        // It did fail to read, and said so in words that do not call a Redis that answers unavailable, and counted it.
        Assert.Contains("Redis refused the worker's command with the error WRONGTYPE", worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Redis unavailable", worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhealthy", worker.Output, StringComparison.Ordinal);
        await otlp.WaitUntilAsync(r => r.Metrics.Any(m => m.Name == "chat.worker.redis.failures" && m.Attribute("error.type") == "RedisServerException" && m.Value > 0),
            TimeSpan.FromSeconds(15), "the failed reads counted");
    }

    // An idle worker spends its time in a blocking read of the stream, and a flush ends that read with an error of its
    // own (UNBLOCKED, "the stream key no longer exists"), which the worker logged as "Redis unavailable", with no word
    // when it answered again, while Redis was up all along.
    [Fact]
    public async Task A_flush_under_an_idle_worker_is_told_as_lost_data_not_as_Redis_unavailable_and_processing_goes_on()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        var worker = await cluster.StartWorkerAsync("idle", _ct, new Dictionary<string, string>
        {
            ["Worker__BlockTime"] = "00:00:10", // waiting in its read when the flush comes
            ["Worker__ClaimIdleTime"] = "00:01:00", // and not about to find the loss by its periodic check first
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        await AppendEntriesAsync(redis.GetDatabase(), "before", count: 3, blockedEvery: 0);
        await WaitForAsync(async () => await ProcessedAsync(redis, "before") == 3, "the entries before the flush processed");

        await using (var admin = await cluster.Redis.AdminAsync())
        {
            await admin.GetServers().Single().FlushAllDatabasesAsync();
        }

        await WaitForAsync(() => Task.FromResult(worker.Output.Contains("Redis lost its data", StringComparison.Ordinal)), "the worker saying Redis lost its data");
        await AppendEntriesAsync(redis.GetDatabase(), "after", count: 3, blockedEvery: 0);
        await WaitForAsync(async () => await ProcessedAsync(redis, "after") == 3, "the entries after the flush processed");
        Assert.DoesNotContain("Redis unavailable", worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Redis refused", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_whose_Redis_is_gone_stops_within_seconds()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        var worker = await cluster.StartWorkerAsync("worker-1", _ct);
        var stopping = TimeSpan.Zero;
        await cluster.Redis.RestartAsync(async () =>
        {
            await WaitForAsync(() => Task.FromResult(worker.Output.Contains("Redis unavailable (RedisConnectionException)", StringComparison.Ordinal)),
                "the worker noticing that Redis stopped");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await worker.StopAsync();
            stopping = clock.Elapsed;
        }, _ct);

        // Each round of reads and the leave at stop used to wait for its command timeouts (5 s) in turn: 18 s. An
        // orchestrator kills what takes longer than its grace period (Kubernetes: 30 s), and Ctrl+C waited as long.
        Assert.True(stopping < TimeSpan.FromSeconds(3), $"the worker took {stopping.TotalSeconds:F1} s to stop with Redis gone");
        Assert.Contains("another worker forgets this consumer later", worker.Output, StringComparison.Ordinal);
    }

    /// <summary>Entries as the gateway writes them; every <paramref name="blockedEvery"/>-th contains a blocked word.</summary>
    private static async Task AppendEntriesAsync(IDatabase db, string room, int count, int blockedEvery, int firstIndex = 0)
    {
        var adds = Enumerable.Range(firstIndex, count).Select(i => db.StreamAddAsync(ChatRedisKeys.MessageStream,
        [
            new NameValueEntry("room", room),
            new NameValueEntry("user", $"loader-{i % 7}"),
            new NameValueEntry("text", blockedEvery > 0 && i % blockedEvery == 0 ? $"cheap spam {i}" : $"message {i}"),
            new NameValueEntry("cmid", $"c-{i}"),
            new NameValueEntry("seq", i + 1),
        ]));
        await Task.WhenAll(adds);
    }

    private static async Task<long> ProcessedAsync(ConnectionMultiplexer redis, string room) =>
        (long?)await redis.GetDatabase().HashGetAsync(ChatRedisKeys.RoomActivity(room), "processed") ?? 0;

    private static Dictionary<string, double> ProcessedBy(OtlpReceiver otlp) =>
        otlp.Metrics.Where(m => m.Name == "chat.worker.messages" && m.Attribute("chat.outcome") == "processed")
            .GroupBy(m => m.Instance!)
            .ToDictionary(g => g.Key, g => g.Last().Value);

    private static Task WaitForAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        Eventually.HoldsAsync(condition, timeout ?? Patience, what);
}
