using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RealtimeDemo.AppHost.Redis;

public static class ChatRedisExtensions
{
    /// <summary>Redis for the chat: an external server, a container, or a local redis-server, chosen once.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddChatRedis(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IRedisHostingProbe? probe = null)
    {
        probe ??= new MachineRedisHostingProbe(builder.Configuration);
        var (hosting, reason) = RedisHostingChoice.Choose(
            builder.Configuration.GetConnectionString(name),
            builder.Configuration[RedisHostingChoice.ModeSetting],
            builder.ExecutionContext.IsPublishMode,
            probe);

        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RealtimeDemo.AppHost")
                .LogInformation("Redis '{Name}' is {Hosting}: {Reason}.", name, hosting, reason);
            return Task.CompletedTask;
        });

        return hosting switch
        {
            RedisHosting.External => builder.AddConnectionString(name),
            // A volume and snapshots, so the dashboard's Restart (which recreates the container) keeps the chat.
            RedisHosting.Container => builder.AddRedis(name).WithDataVolume().WithPersistence(TimeSpan.FromSeconds(10)),
            _ => builder.AddLocalRedisServer(name, probe.FindRedisServer()!),
        };
    }

    /// <summary>
    /// redis-server from this machine, on a port DCP allocates, with its own data directory
    /// (Redis:DataDirectory, or a new temporary one per run). Append-only persistence is on so that a
    /// restart of this resource keeps every acknowledged message.
    /// </summary>
    public static IResourceBuilder<LocalRedisServerResource> AddLocalRedisServer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string redisServerPath)
    {
        var dataDirectory = builder.Configuration["Redis:DataDirectory"]
            ?? Path.Combine(Path.GetTempPath(), "realtimedemo-redis", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDirectory);

        var redis = new LocalRedisServerResource(name, redisServerPath, dataDirectory);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException("The Redis connection string is not available yet."),
            name: healthCheckKey);

        return builder.AddResource(redis)
            .WithEndpoint(name: LocalRedisServerResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--dir");
                context.Args.Add(dataDirectory);
                context.Args.Add("--appendonly");
                context.Args.Add("yes");
                // Each rewrite of the append-only file forks and rewrites the whole data set, on the core Redis shares
                // with a gateway: at Redis's 64 MB a busy chat rewrote every ~25 s and each rewrite showed in the
                // messages' tail latency (bench/findings.md). 256 MB makes them four times rarer, for as much more disk.
                context.Args.Add("--auto-aof-rewrite-min-size");
                context.Args.Add("256mb");
                context.Args.Add("--save");
                context.Args.Add("");
            })
            .WithIconName("Database")
            .WithHealthCheck(healthCheckKey);
    }
}
