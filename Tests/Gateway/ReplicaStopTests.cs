using System.Diagnostics;
using System.Text.Json;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>What a client of a replica sees when that replica is stopped as an orchestrator stops it.</summary>
public sealed class ReplicaStopTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_client_of_a_replica_that_stops_gracefully_is_told_to_reconnect()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await using var clients = await ConnectedClients.ConnectAsync(cluster.A.BaseAddress, 30, "leaving", _ct);

        var reads = clients.All.Select(client => client.ReadUntilClosedAsync(TimeSpan.FromSeconds(40))).ToList();
        await cluster.A.StopAsync();
        var seen = await Task.WhenAll(reads);

        AssertEachToldToReconnect(seen);
        Assert.True(cluster.A.ExitCode == 0, $"a clean stop exited with {cluster.A.ExitCode} (the dashboard shows that as a crash):{Environment.NewLine}{cluster.A.LogTail()}");
    }

    [Fact]
    public async Task A_replica_whose_Redis_is_gone_stops_within_seconds_and_still_tells_its_clients_to_reconnect()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await using var clients = await ConnectedClients.ConnectAsync(cluster.A.BaseAddress, 5, "stranded", _ct);

        var stopping = TimeSpan.Zero;
        IReadOnlyList<(bool Closed, IReadOnlyList<string> Frames)> seen = [];
        await cluster.Redis.RestartAsync(async () =>
        {
            await Eventually.HoldsAsync(() => Task.FromResult(cluster.A.Output.Contains("Backplane subscription lost")), TimeSpan.FromSeconds(10),
                () => $"the replica did not notice that Redis stopped:{Environment.NewLine}{cluster.A.LogTail()}");
            var reads = clients.All.Select(client => client.ReadUntilClosedAsync(TimeSpan.FromSeconds(40))).ToList();
            var clock = Stopwatch.StartNew();
            await cluster.A.StopAsync();
            stopping = clock.Elapsed;
            seen = await Task.WhenAll(reads);
        }, _ct);

        // Each cleanup in Redis used to wait for its command timeout (5 s): the disconnects, the drain waiting for
        // them, the heartbeat and the stats in flight, the registry cleanup: 12 s for these five clients, more
        // for more. An orchestrator kills what takes longer than its grace period (Kubernetes: 30 s).
        var log = $"{Environment.NewLine}The replica's log (its end; all of it in {cluster.A.LogPath}):{Environment.NewLine}{cluster.A.LogTail()}";
        Assert.True(stopping < TimeSpan.FromSeconds(3), $"the replica took {stopping.TotalSeconds:F1} s to stop with Redis gone.{log}");
        AssertEachToldToReconnect(seen, log);
        Assert.True(cluster.A.ExitCode == 0, $"a clean stop exited with {cluster.A.ExitCode}.{log}");
        Assert.True(cluster.A.Output.Contains("the other replicas remove them once this one stops beating"), $"the replica did not say it left its registry entries behind.{log}");
    }

    [Fact]
    public async Task A_replica_whose_dashboard_went_first_stops_within_seconds()
    {
        var otlp = await OtlpReceiver.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(1, new Dictionary<string, string>(otlp.ExporterSettings("realtime-gateway")), _ct);
        await otlp.WaitUntilAsync(received => received.Metrics.Count > 0, TimeSpan.FromSeconds(30), "the replica's first export");

        // Ctrl+C under the AppHost stops the dashboard (the telemetry's receiver) first and the services after it.
        await otlp.DisposeAsync();
        var clock = Stopwatch.StartNew();
        await cluster.A.StopAsync();

        // The exports at stop (the last logs and metrics) used to retry against the closed port, with the standard
        // resilience handler's backoff and the exporter's own retry: 8–10 s, and under the AppHost until it killed
        // the process.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the replica took {clock.Elapsed.TotalSeconds:F1} s to stop with its dashboard gone");
    }

    // A close message without allowReconnect makes every official client stop for good. Each client is told, and
    // why (SignalR alone would cut the sockets without a word, which clients also take as a cue to reconnect; the
    // drain's abort once wrote a close with no reason, which a client could not show).
    private static void AssertEachToldToReconnect(IEnumerable<(bool Closed, IReadOnlyList<string> Frames)> seen, string log = "")
    {
        Assert.All(seen, read => Assert.True(read.Closed, $"a client stayed connected to a stopped replica.{log}"));
        var closes = seen.Select(read => read.Frames.Select(frame => JsonDocument.Parse(frame).RootElement)
            .LastOrDefault(message => message.GetProperty("type").GetInt32() == 7)).ToList();
        Assert.All(closes, close => Assert.True(
            close.ValueKind == JsonValueKind.Object && close.TryGetProperty("allowReconnect", out var allow) && allow.GetBoolean()
            && close.TryGetProperty("error", out var why) && why.GetString() == LocalConnections.LeavingSentence,
            $"a client was not told why and to reconnect: {close} (frames: {string.Join(" ", seen.SelectMany(read => read.Frames))}).{log}"));
    }

    /// <summary>Raw clients of one replica, each a user of its own, closed together (also when a connect fails midway).</summary>
    private sealed class ConnectedClients : IAsyncDisposable
    {
        private readonly List<RawWebSocketClient> _all = [];

        public IReadOnlyList<RawWebSocketClient> All => _all;

        public static async Task<ConnectedClients> ConnectAsync(Uri gateway, int count, string name, CancellationToken cancellationToken)
        {
            var clients = new ConnectedClients();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    clients._all.Add(await RawWebSocketClient.ConnectAsync(gateway, TestTokens.Create(Unique(name)), cancellationToken));
                }

                return clients;
            }
            catch
            {
                await clients.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var client in _all)
            {
                await client.DisposeAsync();
            }
        }
    }
}
