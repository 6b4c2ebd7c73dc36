using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using RealtimeDemo.Contracts;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

public static class ChatBackplaneExtensions
{
    /// <summary>
    /// Redis (through Aspire's client integration) and SignalR with the Redis backplane on that same
    /// connection, so the backplane shares its connection string, health check, tracing and reconnects.
    /// The gateway and the worker both call this, which puts them on the same channels.
    /// </summary>
    public static ISignalRServerBuilder AddChatBackplane(this IHostApplicationBuilder builder)
    {
        // StackExchange.Redis's default socket manager runs its own pool of dedicated threads; on a gateway
        // sized to one or two cores they cost a third of its CPU per message (bench/, "Top costs") for no gain.
        builder.AddRedisClient(ConnectionNames.Redis, configureOptions: options => options.SocketManager = SocketManager.ThreadPool);

        builder.Services.AddSingleton<StorageGeneration>();

        builder.Services.AddOptions<RedisOptions>()
            .Configure<IServiceProvider>((options, provider) =>
                options.ConnectionFactory = _ => Task.FromResult(provider.GetRequiredService<IConnectionMultiplexer>()));

        return builder.Services.AddSignalR().AddStackExchangeRedis();
    }
}
