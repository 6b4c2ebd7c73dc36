using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RealtimeDemo.Contracts;
using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

public static class ChatRedisClientExtensions
{
    /// <summary>
    /// Redis through Aspire's client integration (connection string, health check, tracing, reconnects), and the
    /// check that notices when it lost its data. The gateway and the worker share this one connection setup.
    /// </summary>
    public static IHostApplicationBuilder AddChatRedisClient(this IHostApplicationBuilder builder)
    {
        // StackExchange.Redis's default socket manager runs its own pool of dedicated threads; on a process
        // sized to one or two cores they cost a third of its CPU per message (bench/, "Top costs") for no gain.
        builder.AddRedisClient(ConnectionNames.Redis, configureOptions: options => options.SocketManager = SocketManager.ThreadPool);
        builder.Services.AddSingleton<StorageGeneration>();
        return builder;
    }
}
