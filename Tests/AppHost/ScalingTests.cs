using System.Collections.Concurrent;
using System.Diagnostics;
using Aspire.Hosting.Testing;
using RealtimeDemo.Contracts;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.AppHost;

/// <summary>
/// The `scale` command, run as the dashboard and the CLI run it (Aspire's command service, with its argument), on the
/// real AppHost under acknowledged chat load: nothing lost or doubled, nobody stranded, presence exact.
/// </summary>
public sealed class ScalingTests
{
    private const string Gateway = "realtime-gateway";
    private static readonly TimeSpan BackWithin = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scaling_the_gateway_3_5_2_3_under_load_loses_nothing_strands_nobody_and_keeps_presence_exact()
    {
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=3", "Redis:Mode=local"], _ct);
        var endpoint = run.Endpoint(Gateway);
        var room = Unique("scaling");
        var members = new List<ChatTestClient>();
        var joinedAfter = new Dictionary<ChatTestClient, long>(); // the room's last sequence when each member joined
        try
        {
            await AddMembersOnEveryReplicaAsync(run, endpoint, room, members, joinedAfter);
            await ScaleUnderLoadAsync(run, endpoint, room, members, joinedAfter);
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    // Members join until every running replica has two: whichever instances a scale-in stops, it cuts members off.
    private async Task AddMembersOnEveryReplicaAsync(AppHostRun run, Uri endpoint, string room, List<ChatTestClient> members, Dictionary<ChatTestClient, long> joinedAfter)
    {
        var running = (await run.InstancesAsync(Gateway, _ct)).Where(i => i.Value == "Running").Select(i => i.Key).ToList();
        var perReplica = new Dictionary<string, int>();
        foreach (var member in members)
        {
            var replica = $"{Gateway}-{(await member.Chat.GetConnectionInfoAsync()).Replica}";
            perReplica[replica] = perReplica.GetValueOrDefault(replica) + 1;
        }

        for (var attempt = 0; attempt < 80 && running.Any(r => perReplica.GetValueOrDefault(r) < 2); attempt++)
        {
            var client = await ChatTestClient.ConnectAsync(endpoint, Unique("member"), _ct);
            var replica = $"{Gateway}-{(await client.Chat.GetConnectionInfoAsync()).Replica}";
            if (perReplica.GetValueOrDefault(replica) >= 2)
            {
                await client.DisposeAsync();
                continue;
            }

            perReplica[replica] = perReplica.GetValueOrDefault(replica) + 1;
            members.Add(client);
            joinedAfter[client] = (await client.Chat.JoinRoomAsync(room)).LastSequence;
        }

        Assert.All(running, r => Assert.True(perReplica.GetValueOrDefault(r) >= 2, $"80 connections through the proxy left {r} with fewer than two members"));
    }

    private async Task ScaleUnderLoadAsync(AppHostRun run, Uri endpoint, string room, List<ChatTestClient> members, Dictionary<ChatTestClient, long> joinedAfter)
    {
        // Three members keep talking, resending (same client message id) whatever a scale-in cut off, throughout.
        var acks = new ConcurrentQueue<MessageAck>();
        using var stop = new CancellationTokenSource();
        var talkers = members.Take(3).Select(member => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                acks.Enqueue((await member.SendUntilStoredAsync(room, $"{member.User}-{i}", $"{member.User} says {i}")).Ack);
                await Task.Delay(25);
            }
        }, _ct)).ToList();

        var timings = new List<string>();
        foreach (var replicas in new[] { 5, 2, 3 })
        {
            var before = acks.Count;
            var clock = Stopwatch.StartNew();
            var result = await run.ScaleAsync(Gateway, replicas.ToString(), _ct);
            Assert.True(result.Success, result.Message);
            timings.Add($"→{replicas}: {clock.Elapsed.TotalSeconds:F1} s ({result.Message})");

            var running = (await run.InstancesAsync(Gateway, _ct)).Where(i => i.Value == "Running").Select(i => i.Key).ToHashSet();
            Assert.Equal(replicas, running.Count);
            await Eventually.HoldsAsync(() => Task.FromResult(members.All(m => !m.CutOff)), BackWithin,
                $"every member back within {BackWithin.TotalSeconds:F0} s of the scale to {replicas}: {string.Join(" | ", members.Where(m => m.CutOff).Select(m => m.History))}");
            await Eventually.HoldsAsync(async () => await PresenceExactAsync(members, room), BackWithin, $"presence exact after the scale to {replicas}");
            await NewConnectionsReachAsync(endpoint, running);
            await Eventually.HoldsAsync(() => Task.FromResult(acks.Count >= before + 20), Patience, $"chat going on after the scale to {replicas}");
            if (replicas == 5)
            {
                await AddMembersOnEveryReplicaAsync(run, endpoint, room, members, joinedAfter);
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(talkers);
        var last = await members[0].SendUntilStoredAsync(room, "last", "the last word");
        var acknowledged = acks.Append(last.Ack).ToList();
        foreach (var member in members)
        {
            var ids = (await member.MessagesUntilIdAsync(last.Ack.MessageId, Patience)).Select(m => m.Id).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.Empty(acknowledged.Where(a => a.Sequence > joinedAfter[member]).Select(a => a.MessageId).Except(ids));
            Assert.All(member.Outages, outage => Assert.True(outage < BackWithin, $"{member.User} was away {outage.TotalSeconds:F1} s: {member.History}"));
        }

        var cutOff = members.Sum(m => m.Outages.Count);
        Assert.True(cutOff >= 6, $"only {cutOff} members were cut off by stopping three replicas with two members or more each");
        TestContext.Current.SendDiagnosticMessage(
            $"{acknowledged.Count} messages; {cutOff} cut-offs, back after at most {members.SelectMany(m => m.Outages).Max().TotalSeconds:F1} s; {string.Join("; ", timings)}");
    }

    [Fact]
    public async Task Scaling_the_worker_1_2_1_under_load_keeps_the_room_statistics_exact()
    {
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=1", "Redis:Mode=local"], _ct);
        var room = Unique("counted");
        await using var alice = await ChatTestClient.ConnectAsync(run.Endpoint(Gateway), Unique("alice"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        var sent = 0;
        using var stop = new CancellationTokenSource();
        var talker = Task.Run(async () =>
        {
            for (; !stop.IsCancellationRequested; sent++)
            {
                await alice.SendUntilStoredAsync(room, $"m-{sent}", $"message {sent}");
                await Task.Delay(20);
            }
        }, _ct);

        foreach (var replicas in new[] { 2, 1 })
        {
            await Eventually.HoldsAsync(() => Task.FromResult(sent >= 100 * (3 - replicas)), Patience, "messages before the scale");
            var result = await run.ScaleAsync("chat-worker", replicas.ToString(), _ct);
            Assert.True(result.Success, result.Message);
            Assert.Equal(replicas, (await run.InstancesAsync("chat-worker", _ct)).Count(i => i.Value == "Running"));
        }

        await Eventually.HoldsAsync(() => Task.FromResult(sent >= 300), Patience, "messages after the scale-in");
        await stop.CancelAsync();
        await talker;

        // Every stored message processed once: not fewer (a stopped worker's entries are taken over), not more.
        await Eventually.HoldsAsync(async () => await alice.Chat.GetRoomStatsAsync(room) is { } stats && stats.ProcessedMessages == sent,
            TimeSpan.FromSeconds(60), $"the worker's statistics counting exactly the {sent} messages");
        await Task.Delay(TimeSpan.FromSeconds(2), _ct);
        Assert.Equal(sent, (await alice.Chat.GetRoomStatsAsync(room)).ProcessedMessages);

        // The drained worker left the consumer group: it does not grow with every start.
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync((await run.App.GetConnectionStringAsync("redis", _ct))!);
        var consumers = await redis.GetDatabase().StreamConsumerInfoAsync(RealtimeDemo.ServerShared.ChatRedisKeys.MessageStream, RealtimeDemo.ServerShared.ChatRedisKeys.WorkerGroup);
        Assert.Single(consumers);
    }

    [Fact]
    public async Task A_replica_count_outside_1_to_the_maximum_is_refused_and_changes_nothing()
    {
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=2", "Gateway:MaxReplicas=4", "Redis:Mode=local"], _ct);
        var before = await run.InstancesAsync(Gateway, _ct);
        Assert.Equal(4, before.Count);

        foreach (var replicas in new[] { "0", "5", "2.5", "-1", "three", "", " 2e3" })
        {
            var result = await run.ScaleAsync(Gateway, replicas, _ct);

            Assert.False(result.Success, $"'{replicas}' was taken: {result.Message}");
            Assert.Equal(before, await run.InstancesAsync(Gateway, _ct));
        }
    }

    [Fact]
    public async Task A_replica_stopped_by_hand_stops_counting_and_asking_for_the_same_count_starts_it_again()
    {
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=2", "Gateway:MaxReplicas=3", "Redis:Mode=local"], _ct);
        var running = (await run.InstancesAsync(Gateway, _ct)).Where(i => i.Value == "Running").Select(i => i.Key).ToList();
        Assert.Equal(2, running.Count);

        // As the dashboard's stop button on one instance does (a crash or a kill shows the same).
        var stopped = await run.App.ResourceCommands.ExecuteCommandAsync(running[0], Aspire.Hosting.ApplicationModel.KnownResourceCommands.StopCommand, _ct);
        Assert.True(stopped.Success, stopped.Message);
        await Eventually.HoldsAsync(() => Task.FromResult(ReplicasShown(run) == 1), Patience, "the gateway's replica set showing 1 replica");

        var result = await run.ScaleAsync(Gateway, "2", _ct);

        Assert.True(result.Success, result.Message);
        Assert.Contains($"started {running[0]}", result.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await run.InstancesAsync(Gateway, _ct)).Count(i => i.Value == "Running"));
        Assert.Equal(2, ReplicasShown(run));
    }

    [Fact]
    public async Task Scaled_in_instances_are_hidden_from_the_dashboards_list_and_an_instance_scaled_out_shows_again()
    {
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=1", "Gateway:MaxReplicas=2", "Redis:Mode=local"], _ct);
        var instances = await run.InstancesAsync(Gateway, _ct);
        var running = Assert.Single(instances, i => i.Value == "Running").Key;
        var idle = Assert.Single(instances, i => i.Value != "Running").Key;
        await Eventually.HoldsAsync(() => Task.FromResult(Shown(run, idle) == ("Scaled in", true)), Patience, $"{idle} scaled in and hidden at the start");
        Assert.Equal(("Running", false), Shown(run, running));

        var outward = await run.ScaleAsync(Gateway, "2", _ct);
        Assert.True(outward.Success, outward.Message);
        await Eventually.HoldsAsync(() => Task.FromResult(Shown(run, idle) == ("Running", false)), Patience, $"{idle} running and listed once scaled out");

        var inward = await run.ScaleAsync(Gateway, "1", _ct);
        Assert.True(inward.Success, inward.Message);
        await Eventually.HoldsAsync(() => Task.FromResult(Shown(run, idle) == ("Scaled in", true)), Patience, $"{idle}, the newest, scaled in and hidden again");
        Assert.Equal(("Running", false), Shown(run, running));
    }

    // What the dashboard's resource list shows of an instance: its state, and whether it leaves it out.
    private static (string? State, bool Hidden) Shown(AppHostRun run, string resourceId) =>
        run.App.ResourceNotifications.TryGetCurrentState(resourceId, out var current) ? (current.Snapshot.State?.Text, current.Snapshot.IsHidden) : (null, false);

    [Fact]
    public async Task The_proxys_address_is_on_the_replica_sets_row_alone_so_a_trace_names_the_set_as_a_requests_peer()
    {
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=1", "Gateway:MaxReplicas=2", "Redis:Mode=local"], _ct);
        var proxy = run.Endpoint(Gateway);

        // The dashboard names as a span's peer the first resource that lists the span's server address: with every
        // instance listing the proxy's, a frontend's WebSocket was shown going to a gateway instance that never ran.
        await Eventually.HoldsAsync(() => Task.FromResult(UrlsShown(run, $"{Gateway}-replicas").Contains(proxy)), Patience,
            $"the gateway's replica set listing the proxy's address {proxy}");
        var instances = await run.InstancesAsync(Gateway, _ct);
        Assert.Equal(2, instances.Count);
        Assert.All(instances.Keys, id => Assert.Empty(UrlsShown(run, id)));
    }

    private static List<Uri> UrlsShown(AppHostRun run, string resourceId) =>
        run.App.ResourceNotifications.TryGetCurrentState(resourceId, out var current) ? [.. current.Snapshot.Urls.Select(url => new Uri(url.Url))] : [];

    // The "Replicas" property the dashboard shows on the replica set.
    private static int? ReplicasShown(AppHostRun run) =>
        run.App.ResourceNotifications.TryGetCurrentState($"{Gateway}-replicas", out var current)
        && current.Snapshot.Properties.FirstOrDefault(p => p.Name == "replicas.running")?.Value is int replicas ? replicas : null;

    // The member list as any connected member reads it, against everyone who is in the room.
    private static async Task<bool> PresenceExactAsync(List<ChatTestClient> members, string room)
    {
        try
        {
            var listed = await members.First(m => !m.CutOff).Chat.GetRoomMembersAsync(room);
            return listed.Order().SequenceEqual(members.Select(m => m.User).Order());
        }
        catch (Exception ex) when (ex is Microsoft.AspNetCore.SignalR.HubException or InvalidOperationException or TaskCanceledException)
        {
            return false; // that member was cut off meanwhile
        }
    }

    // Connects fresh clients through the proxy until one has reached each running replica.
    private async Task NewConnectionsReachAsync(Uri endpoint, IReadOnlySet<string> running)
    {
        var reached = new HashSet<string>();
        for (var attempt = 0; attempt < 60 && !running.IsSubsetOf(reached); attempt++)
        {
            await using var probe = await ChatTestClient.ConnectAsync(endpoint, Unique("probe"), _ct);
            reached.Add($"{Gateway}-{(await probe.Chat.GetConnectionInfoAsync()).Replica}");
        }

        Assert.Equal(running.Order(), reached.Order());
    }
}
