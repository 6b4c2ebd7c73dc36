using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>The real AppHost, started through Aspire.Hosting.Testing (dashboard off), stopped on dispose.</summary>
public sealed class AppHostRun : IAsyncDisposable
{
    private readonly string _redisDataDirectory;

    private AppHostRun(DistributedApplication app, string redisDataDirectory)
    {
        App = app;
        _redisDataDirectory = redisDataDirectory;
    }

    public DistributedApplication App { get; }

    /// <summary>Builds the AppHost model from these settings without starting anything.</summary>
    public static Task<IDistributedApplicationTestingBuilder> CreateBuilderAsync(string[] settings, CancellationToken cancellationToken) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(settings, cancellationToken);

    /// <summary>Starts the AppHost with these settings and waits until every replica of every resource is healthy.</summary>
    public static async Task<AppHostRun> StartAsync(string[] settings, CancellationToken cancellationToken)
    {
        var redisData = Directory.CreateTempSubdirectory("realtimedemo-apphost-redis-").FullName;
        var builder = await CreateBuilderAsync([.. settings, $"Redis:DataDirectory={redisData}"], cancellationToken);
        // Every resource's console would otherwise stream into the test output; warnings and errors still show.
        builder.Services.AddLogging(logging => logging
            .AddFilter("AppHost.Resources", LogLevel.Warning)
            .AddFilter("Aspire.Hosting", LogLevel.Warning));

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            // With the dashboard off, in-memory OTLP retries make every service stop take ~11 s instead of ~1 s.
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
                context.EnvironmentVariables.Remove("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"));
        }

        var app = await builder.BuildAsync(cancellationToken);
        var run = new AppHostRun(app, redisData);
        try
        {
            await app.StartAsync(cancellationToken);
            await run.WaitUntilHealthyAsync(builder, TimeSpan.FromSeconds(90), cancellationToken);
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    public Uri Endpoint(string resource) => App.GetEndpoint(resource, "http");

    private async Task WaitUntilHealthyAsync(IDistributedApplicationTestingBuilder builder, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var expected = builder.Resources
            .Where(r => r is ProjectResource or IResourceWithConnectionString && r is not ParameterResource)
            .ToDictionary(r => r.Name, r => r.TryGetLastAnnotation<ReplicaAnnotation>(out var replicas) ? replicas.Replicas : 1);

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        var healthy = new Dictionary<string, HashSet<string>>();
        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        try
        {
            await foreach (var e in notifications.WatchAsync(timeoutCts.Token))
            {
                if (!expected.ContainsKey(e.Resource.Name))
                {
                    continue;
                }

                var replicas = healthy.TryGetValue(e.Resource.Name, out var set) ? set : healthy[e.Resource.Name] = [];
                if (e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
                {
                    replicas.Add(e.ResourceId);
                }
                else
                {
                    replicas.Remove(e.ResourceId);
                }

                if (expected.All(r => healthy.TryGetValue(r.Key, out var ids) && ids.Count >= r.Value))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var state = string.Join(", ", expected.Select(r => $"{r.Key} {(healthy.TryGetValue(r.Key, out var ids) ? ids.Count : 0)}/{r.Value}"));
            throw new TimeoutException($"Not every resource became healthy within {timeout.TotalSeconds:F0} s: {state}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_redisDataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
