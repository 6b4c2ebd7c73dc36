using Microsoft.Extensions.Options;
using RealtimeDemo.ChatWorker;
using RealtimeDemo.ChatWorker.Stream;
using RealtimeDemo.ChatWorker.Telemetry;
using RealtimeDemo.Contracts.Telemetry;

namespace Microsoft.Extensions.Hosting;

public static class ChatWorkerExtensions
{
    /// <summary>The stream consumer, its processing (statistics, moderation), backlog metrics and health.</summary>
    public static IHostApplicationBuilder AddChatWorker(this IHostApplicationBuilder builder)
    {
        builder.AddChatBackplane();

        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>();
        builder.Services.AddSingleton(RoomTemplate.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton<MessageStreamReader>();
        builder.Services.AddSingleton<RoomMessageProcessor>();
        builder.Services.AddSingleton<StreamBacklog>();
        builder.Services.AddSingleton<WorkerTelemetry>();
        builder.Services.AddHostedService<StreamConsumer>();
        builder.Services.AddHostedService<StreamBacklogSampler>();
        builder.Services.AddHostedService<WorkerOpsStats>();
        builder.Services.AddHealthChecks().AddCheck<StreamBacklogHealthCheck>("message-stream-backlog");
        return builder;
    }
}
