using System.Collections.Concurrent;
using RealtimeDemo.Contracts;
using RealtimeDemo.Tests.Infrastructure;
using StackExchange.Redis;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>What Redis holds: it may lose everything (nobody is stuck, nothing sent afterwards is missed), and it never grows with traffic.</summary>
public sealed class StorageTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_away_for_longer_than_the_history_keeps_is_told_how_many_it_missed_and_shows_the_rest_once()
    {
        const int Away = 300; // sent while the reader is paused; the room keeps about its latest 10 (MAXLEN ~, whole stream nodes)
        await using var cluster = await GatewayCluster.StartAsync(1, HostileClientTests.Settings(("Chat__History__MaxMessagesPerRoom", "10"),
            ("Chat__Limits__MessagesPerSecond", "1000"), ("Chat__Limits__MessageBurst", "1000")), _ct);
        var room = Unique("busy");
        await using var sender = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("sender"), _ct);
        await using var reader = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("reader"), _ct);
        await sender.Chat.JoinRoomAsync(room);
        await reader.Chat.JoinRoomAsync(room);
        await sender.Chat.SendMessageAsync(room, "before", "before the reader went away");
        await reader.MessagesUntilAsync(room, 1, ChatTestClient.Delivery);

        await reader.Chat.PauseAsync(_ct);
        for (var i = 2; i <= Away + 1; i++)
        {
            await sender.Chat.SendMessageAsync(room, $"away-{i}", $"while the reader was away {i}");
        }

        await reader.Chat.ResumeAsync(_ct);
        var shown = await reader.MessagesUntilAsync(room, Away + 1, TimeSpan.FromSeconds(30));

        // Said once, with the count; then everything still kept, each once and in order, up to the last.
        var (missedIn, missed) = Assert.Single(reader.Missed);
        Assert.Equal(room, missedIn);
        Assert.InRange(missed, 1, Away - 10);
        Assert.Equal(Enumerable.Range(2 + (int)missed, Away - (int)missed).Select(i => (long)i), shown.Where(m => m.Room == room).Select(m => m.Sequence));
    }

    [Fact]
    public async Task After_Redis_loses_its_data_under_load_every_member_shows_every_message_sent_afterwards_once()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        var worker = await cluster.StartWorkerAsync("worker-1", _ct);
        var room = Unique("survivors");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("bob"), _ct);
        await using var carol = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("carol"), _ct);
        var members = new[] { alice, bob, carol };
        var before = await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        await carol.Chat.JoinRoomAsync(room);

        // Alice and Bob keep talking, resending (same client message id) whatever is refused, while Redis is flushed.
        var acks = new ConcurrentQueue<MessageAck>();
        using var stop = new CancellationTokenSource();
        var talkers = new[] { alice, bob }.Select(member => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                acks.Enqueue((await member.SendUntilStoredAsync(room, $"{member.User}-{i}", $"{member.User} says {i}")).Ack);
                await Task.Delay(20);
            }
        }, _ct)).ToList();
        await Eventually.HoldsAsync(() => Task.FromResult(acks.Count >= 20), Patience, "20 messages before the flush");

        await using (var admin = await cluster.Redis.AdminAsync())
        {
            await admin.GetServers().Single().FlushAllDatabasesAsync();
        }

        await Eventually.HoldsAsync(() => Task.FromResult(acks.Count(a => a.Epoch != before.Epoch) >= 40), Patience, "40 messages after the flush");
        await stop.CancelAsync();
        await Task.WhenAll(talkers);
        var last = await alice.Chat.SendMessageAsync(room, "last", "the last word");

        var afterwards = acks.Where(a => a.Epoch == last.Epoch).Select(a => a.MessageId).Append(last.MessageId).ToHashSet();
        foreach (var member in members)
        {
            var shown = await member.MessagesUntilIdAsync(last.MessageId, Patience);
            var ids = shown.Select(m => m.Id).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.Empty(afterwards.Except(ids));
            var newEpoch = shown.Where(m => m.Epoch == last.Epoch).Select(m => m.Sequence).ToList();
            Assert.Equal(newEpoch.Order(), newEpoch); // in order, within the new epoch
            Assert.Contains(room, member.RoomResets);
        }

        // The registry is back for every live connection, the worker carries on, and each process said what happened.
        await Eventually.HoldsAsync(async () => (await alice.Chat.GetRoomMembersAsync(room)).Count == 3, Patience, "all three members listed again");
        await Eventually.HoldsAsync(async () => await bob.Chat.GetRoomStatsAsync(room) is { } stats && stats.ProcessedMessages == stats.Messages,
            Patience, "the worker processing the new epoch");
        foreach (var process in new[] { cluster.A, cluster.B, worker })
        {
            await Eventually.HoldsAsync(() => Task.FromResult(process.Output.Contains("Redis lost its data")), Patience, $"\"Redis lost its data\" in {process.LogPath}");
        }
    }

    [Fact]
    public async Task Redis_holds_as_many_keys_after_2000_messages_as_after_400_in_the_same_rooms()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, new Dictionary<string, string>
        {
            ["Chat__Limits__MessagesPerSecond"] = "10000",
            ["Chat__Limits__MessageBurst"] = "10000",
        }, _ct);
        await cluster.StartWorkerAsync("worker-1", _ct);
        var rooms = Enumerable.Range(0, 10).Select(i => Unique($"busy{i}")).ToList();
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        foreach (var room in rooms)
        {
            await alice.Chat.JoinRoomAsync(room);
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var server = redis.GetServers().Single();

        await SendAsync(alice, rooms, 0, 400);
        await WorkerCaughtUpAsync(alice, rooms, 40);
        // The processes' stats indexes come with their first once-a-second report, not with traffic: on a busy
        // machine the worker's can be later than its first 400 messages.
        await Eventually.HoldsAsync(async () => await redis.GetDatabase().KeyExistsAsync(RealtimeDemo.ServerShared.ChatRedisKeys.GatewayStatsIndex)
            && await redis.GetDatabase().KeyExistsAsync(RealtimeDemo.ServerShared.ChatRedisKeys.WorkerStatsIndex), Patience, "the gateway's and the worker's first stats");
        var after400 = LastingKeys(server);

        await SendAsync(alice, rooms, 400, 2000);
        await WorkerCaughtUpAsync(alice, rooms, 200);
        var after2000 = LastingKeys(server);

        Assert.Equal(after400, after2000);
        // Every key of a room expires with the room's retention; nothing of a message lives on its own.
        foreach (var key in after2000.Where(k => k.StartsWith("chat:room:", StringComparison.Ordinal) && !k.EndsWith(":members", StringComparison.Ordinal)))
        {
            Assert.True(await redis.GetDatabase().KeyTimeToLiveAsync(key) is { } ttl && ttl > TimeSpan.Zero, $"{key} never expires");
        }

        TestContext.Current.SendDiagnosticMessage($"keys after 400 and 2,000 messages: {after400.Count}, {after2000.Count}");
    }

    [Fact]
    public async Task Rooms_left_without_a_message_keep_their_epoch_only_an_hour_and_a_member_back_within_it_finds_it()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var server = redis.GetServers().Single();
        var grace = TimeSpan.FromMilliseconds(long.Parse(RealtimeDemo.ServerShared.ChatRedisKeys.QuietRoomGraceMs, System.Globalization.CultureInfo.InvariantCulture));
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        var (talked, shared) = (Unique("talked"), Unique("shared"));
        await bob.Chat.JoinRoomAsync(shared);
        var before = LastingKeys(server);

        // Left by LeaveRoom, and by a connection that closes while in its rooms.
        var quiet = Enumerable.Range(0, 20).Select(i => Unique($"quiet{i}")).ToList();
        var quietEpoch = 0L;
        foreach (var room in quiet)
        {
            quietEpoch = (await alice.Chat.JoinRoomAsync(room)).Epoch;
            await alice.Chat.LeaveRoomAsync(room);
        }

        var closed = Enumerable.Range(0, 5).Select(i => Unique($"closed{i}")).ToList();
        await using (var carol = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("carol"), _ct))
        {
            foreach (var room in closed)
            {
                await carol.Chat.JoinRoomAsync(room);
            }
        }

        // A room someone is still in keeps its epoch; a room with a message keeps it and its history after everyone left.
        var sharedEpoch = (await alice.Chat.JoinRoomAsync(shared)).Epoch;
        await alice.Chat.LeaveRoomAsync(shared);
        await alice.Chat.JoinRoomAsync(talked);
        await alice.Chat.SendMessageAsync(talked, "m1", "kept");
        await alice.Chat.LeaveRoomAsync(talked);

        var db = redis.GetDatabase();
        await Eventually.HoldsAsync(async () => await db.KeyTimeToLiveAsync(RealtimeDemo.ServerShared.ChatRedisKeys.RoomCounter(closed[^1])) <= grace, Patience,
            "the closed connection's rooms left");
        foreach (var key in LastingKeys(server).Except(before).Where(k => k.StartsWith("chat:room:", StringComparison.Ordinal) && !k.StartsWith($"chat:room:{talked}:", StringComparison.Ordinal)))
        {
            Assert.EndsWith(":counter", key);
            Assert.True(await db.KeyTimeToLiveAsync(key) <= grace, $"{key} outlives the quiet-room grace");
        }

        Assert.Equal(quietEpoch, (await alice.Chat.JoinRoomAsync(quiet[^1])).Epoch); // back within the grace: the epoch it held
        Assert.True(await db.KeyTimeToLiveAsync(RealtimeDemo.ServerShared.ChatRedisKeys.RoomCounter(quiet[^1])) > grace, "a joined room keeps its retention");
        Assert.Empty(alice.RoomResets);
        Assert.Equal(sharedEpoch, (await bob.Chat.GetRoomStatsAsync(shared)).Epoch);
        Assert.Equal(1, (await bob.Chat.JoinRoomAsync(talked)).LastSequence);
    }

    [Fact]
    public async Task A_room_is_kept_its_retention_after_its_last_message_and_not_renewed_with_every_message()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await cluster.StartWorkerAsync("worker-1", _ct);
        var room = Unique("kept");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await using var redis = await cluster.Redis.AdminAsync();
        var server = redis.GetServers().Single();
        var renewalsBefore = await ExpiryWritesAsync(server);

        for (var i = 0; i < 20; i++)
        {
            await alice.Chat.SendMessageAsync(room, $"m{i}", $"message {i}");
        }

        await Eventually.HoldsAsync(async () => await alice.Chat.GetRoomStatsAsync(room) is { ProcessedMessages: 20 }, Patience, "the worker processing all 20");

        // The default retention (30 days) from the last message, give or take the renewal's minute; the worker's
        // statistics with the history they describe.
        var retention = TimeSpan.FromDays(30);
        var keys = server.Keys(pattern: $"chat:room:{room}:*").Select(k => (string)k!).Where(k => !k.EndsWith(":members", StringComparison.Ordinal)).ToList();
        Assert.Contains(keys, k => k.EndsWith(":history", StringComparison.Ordinal));
        foreach (var key in keys)
        {
            var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key);
            Assert.True(ttl > retention - TimeSpan.FromMinutes(1) && ttl <= retention + TimeSpan.FromMinutes(1), $"{key} expires in {ttl}");
        }

        // Each renewal is a write Redis keeps in its append-only file: once per key, not once per message (160 here).
        Assert.InRange(await ExpiryWritesAsync(server) - renewalsBefore, 1, 10);
    }

    private static async Task<long> ExpiryWritesAsync(IServer server)
    {
        var stats = (await server.InfoAsync("commandstats")).SelectMany(group => group)
            .FirstOrDefault(pair => pair.Key == "cmdstat_pexpire").Value;
        return stats is null ? 0 : long.Parse(stats.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    // Every key but each process's last-second stats, which expire 5 s after their process last wrote them, and users'
    // join budgets, which expire once full again (~20 s): whether one is there at one instant or the other is timing,
    // not growth.
    private static List<string> LastingKeys(IServer server) =>
        [.. server.Keys(pattern: "chat:*").Select(k => (string)k!)
            .Where(k => (!k.StartsWith("chat:stats:", StringComparison.Ordinal)
                    || k == RealtimeDemo.ServerShared.ChatRedisKeys.GatewayStatsIndex || k == RealtimeDemo.ServerShared.ChatRedisKeys.WorkerStatsIndex)
                && !(k.StartsWith("chat:user:", StringComparison.Ordinal) && k.EndsWith(":joins", StringComparison.Ordinal)))
            .Order()];

    private static async Task SendAsync(ChatTestClient client, IReadOnlyList<string> rooms, int from, int to)
    {
        var sends = new List<Task>();
        for (var i = from; i < to; i++)
        {
            // Every tenth is moderated, so the worker's marks are part of what is counted.
            sends.Add(client.Chat.SendMessageAsync(rooms[i % rooms.Count], $"m-{i}", i % 10 == 0 ? $"spam {i}" : $"message {i}"));
            if (sends.Count == 50)
            {
                await Task.WhenAll(sends);
                sends.Clear();
            }
        }

        await Task.WhenAll(sends);
    }

    private static Task WorkerCaughtUpAsync(ChatTestClient client, IReadOnlyList<string> rooms, int perRoom) =>
        Eventually.HoldsAsync(async () =>
        {
            foreach (var room in rooms)
            {
                if ((await client.Chat.GetRoomStatsAsync(room)).ProcessedMessages < perRoom)
                {
                    return false;
                }
            }

            return true;
        }, Patience, () => $"the worker processing {perRoom} messages per room");
}
