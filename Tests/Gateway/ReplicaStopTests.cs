using System.Text.Json;
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
        var clients = new List<RawWebSocketClient>();
        try
        {
            for (var i = 0; i < 30; i++)
            {
                clients.Add(await RawWebSocketClient.ConnectAsync(cluster.A.BaseAddress, TestTokens.Create(Unique("leaving")), _ct));
            }

            var reads = clients.Select(client => client.ReadUntilClosedAsync(TimeSpan.FromSeconds(40))).ToList();
            await cluster.A.StopAsync();
            var seen = await Task.WhenAll(reads);

            Assert.All(seen, read => Assert.True(read.Closed, "a client stayed connected to a stopped replica"));
            // A close message without allowReconnect makes every official client stop for good. Each client is told
            // (SignalR alone would cut the sockets without a word, which clients also take as a cue to reconnect).
            var closes = seen.Select(read => read.Frames.Select(frame => JsonDocument.Parse(frame).RootElement)
                .LastOrDefault(message => message.GetProperty("type").GetInt32() == 7)).ToList();
            Assert.All(closes, close => Assert.True(
                close.ValueKind == JsonValueKind.Object && close.TryGetProperty("allowReconnect", out var allow) && allow.GetBoolean(),
                $"a client was not told to reconnect: {close}"));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
