using RealtimeDemo.ChatWorker;
using RealtimeDemo.Contracts;

namespace Microsoft.Extensions.Hosting;

public static class ChatWorkerExtensions
{
    public static IHostApplicationBuilder AddChatWorker(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient(ConnectionNames.Redis);
        builder.Services.AddHostedService<RedisConnectionReporter>();
        return builder;
    }
}
