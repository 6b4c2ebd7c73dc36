using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>What a client of a replica sees when that replica is stopped as an orchestrator stops it.</summary>
public sealed class ReplicaStopTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_client_of_a_replica_that_stops_gracefully_is_told_to_reconnect_never_to_give_up()
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
            // A close message without allowReconnect makes every official client stop for good; the socket
            // simply closing (no close message) makes them reconnect, which is what a stop must lead to.
            var closes = seen.SelectMany(read => read.Frames).Select(frame => JsonDocument.Parse(frame).RootElement)
                .Where(message => message.GetProperty("type").GetInt32() == 7).ToList();
            Assert.All(closes, close => Assert.True(
                close.TryGetProperty("allowReconnect", out var allow) && allow.GetBoolean(), $"a client was told to give up: {close}"));
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
