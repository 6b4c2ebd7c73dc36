using Microsoft.Extensions.Options;
using RealtimeDemo.ChatWorker.Processing;
using RealtimeDemo.ChatWorker.Telemetry;
using RealtimeDemo.ServerShared;

namespace RealtimeDemo.ChatWorker.Extensions;

public static class ChatWorkerExtensions
{
    /// <summary>The stream consumer, its processing (statistics, moderation), backlog metrics and health.</summary>
    public static IHostApplicationBuilder AddChatWorker(this IHostApplicationBuilder builder)
    {
        builder.AddChatRedisClient();

        builder.Services.AddSettings<WorkerOptions>(WorkerOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<WorkerOptions>, BlockedWordsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(RoomTemplate.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton<MessageStreamReader>();
        builder.Services.AddSingleton<RoomMessageProcessor>();
        builder.Services.AddSingleton<StreamBacklog>();
        builder.Services.AddSingleton<WorkerTelemetry>();
        builder.Services.AddHostedService<StreamConsumer>();
        builder.Services.AddHostedService<StreamBacklogSampler>();
        builder.Services.AddHostedService<WorkerOpsStats>();
        builder.Services.AddSingleton<StreamBacklogHealthCheck>();
        builder.Services.AddHealthChecks().AddCheck<StreamBacklogHealthCheck>("message-stream-backlog");
        return builder;
    }
}
