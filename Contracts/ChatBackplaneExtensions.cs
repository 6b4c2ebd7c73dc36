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
        builder.AddRedisClient(ConnectionNames.Redis);

        builder.Services.AddOptions<RedisOptions>()
            .Configure<IServiceProvider>((options, provider) =>
                options.ConnectionFactory = _ => Task.FromResult(provider.GetRequiredService<IConnectionMultiplexer>()));

        return builder.Services.AddSignalR().AddStackExchangeRedis();
    }
}
