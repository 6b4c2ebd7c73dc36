using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.AppHost;

/// <summary>The whole system started by the real AppHost (Aspire.Hosting.Testing), with real redis-server.</summary>
public sealed class AppHostRunTests
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(10);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_resource_becomes_healthy_and_a_message_crosses_gateway_replicas_through_the_proxy()
    {
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=2", "Redis:Mode=local"], _ct);
        var gateway = run.Endpoint("realtime-gateway");

        // The proxy balances per TCP connection; keep opening clients until two sit on different replicas.
        var clients = new List<ChatTestClient>();
        try
        {
            ChatTestClient? first = null, second = null;
            string? firstReplica = null;
            for (var attempt = 0; attempt < 20 && second is null; attempt++)
            {
                var client = await ChatTestClient.ConnectAsync(gateway, _ct);
                clients.Add(client);
                var replica = (await client.GetConnectionInfoAsync()).Replica;
                if (first is null)
                {
                    (first, firstReplica) = (client, replica);
                }
                else if (replica != firstReplica)
                {
                    second = client;
                }
            }

            Assert.True(second is not null, "20 connections through the proxy all landed on one replica.");
            await first!.JoinRoomAsync("lobby");
            await second.JoinRoomAsync("lobby");

            var ack = await first.SendMessageAsync("lobby", "across replicas");

            Assert.Equal(ack.MessageId, (await second.NextMessageAsync(Delivery)).Id);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task With_a_connection_string_the_services_use_that_external_redis_server()
    {
        await using var redis = await RedisServerProcess.StartAsync(_ct);
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=1", $"ConnectionStrings:redis={redis.ConnectionString}"], _ct);
        await using var client = await ChatTestClient.ConnectAsync(run.Endpoint("realtime-gateway"), _ct);
        await client.JoinRoomAsync("lobby");

        await client.SendMessageAsync("lobby", "through the external server");

        Assert.Equal("through the external server", (await client.NextMessageAsync(Delivery)).Text);
        await using var observer = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var channels = await observer.GetServers().Single().SubscriptionChannelsAsync();
        Assert.Contains(channels, channel => channel.ToString().StartsWith("RealtimeDemo.Contracts.ChatHub:", StringComparison.Ordinal));
    }
}
