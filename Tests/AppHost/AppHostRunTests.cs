using RealtimeDemo.ServerShared;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.AppHost;

/// <summary>The whole system started by the real AppHost (Aspire.Hosting.Testing), with real redis-server.</summary>
public sealed class AppHostRunTests
{
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
                var client = await ChatTestClient.ConnectAsync(gateway, Unique("user"), _ct);
                clients.Add(client);
                var replica = (await client.Chat.GetConnectionInfoAsync()).Replica;
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
            await first!.Chat.JoinRoomAsync("lobby");
            await second.Chat.JoinRoomAsync("lobby");

            var ack = await first.Chat.SendMessageAsync("lobby", "m-1", "across replicas");

            Assert.Equal(ack.MessageId, (await second.NextMessageAsync()).Id);
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
        await using var client = await ChatTestClient.ConnectAsync(run.Endpoint("realtime-gateway"), Unique("user"), _ct);
        await client.Chat.JoinRoomAsync("lobby");

        await client.Chat.SendMessageAsync("lobby", "m-1", "through the external server");

        Assert.Equal("through the external server", (await client.NextMessageAsync()).Text);
        await using var observer = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var channels = await observer.GetServers().Single().SubscriptionChannelsAsync();
        // The gateway listens on that server: private messages always, the room while it has members there.
        Assert.Contains(ChatRedisKeys.PrivateDeliveryChannel, channels.Select(channel => channel.ToString()));
        Assert.Contains(ChatRedisKeys.RoomDeliveryChannel("lobby"), channels.Select(channel => channel.ToString()));
    }
}
