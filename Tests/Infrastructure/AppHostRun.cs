using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RealtimeDemo.AppHost.Scaling;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>The real AppHost, started through Aspire.Hosting.Testing (dashboard off unless asked for), stopped on dispose.</summary>
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
    public static Task<IDistributedApplicationTestingBuilder> CreateBuilderAsync(string[] settings, CancellationToken cancellationToken, bool dashboard = false) =>
        dashboard
            ? DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(new DistributedApplicationTestingBuilderOptions { EnableDashboard = true }, settings, cancellationToken)
            : DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(settings, cancellationToken);

    /// <summary>
    /// Starts the AppHost with these settings and waits until every replica of every resource is healthy. With
    /// <paramref name="dashboard"/>, the Aspire dashboard runs too (on ports of its own), receiving everyone's telemetry.
    /// </summary>
    public static async Task<AppHostRun> StartAsync(string[] settings, CancellationToken cancellationToken, bool dashboard = false)
    {
        var redisData = Directory.CreateTempSubdirectory("realtimedemo-apphost-redis-").FullName;
        var builder = await CreateBuilderAsync([.. settings, $"Redis:DataDirectory={redisData}"], cancellationToken, dashboard);
        // Every resource's console would otherwise stream into the test output; warnings and errors still show.
        builder.Services.AddLogging(logging => logging
            .AddFilter("AppHost.Resources", LogLevel.Warning)
            .AddFilter("Aspire.Hosting", LogLevel.Warning)
            // Each failed probe of a resource still starting or already stopping, with its stack trace (hundreds per
            // run); a resource that never gets healthy is named by WaitUntilHealthyAsync instead.
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));

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

    /// <summary>Runs the `scale` command of a live-scaled project as the dashboard or the CLI does, with its one argument.</summary>
    public async Task<ExecuteCommandResult> ScaleAsync(string project, string replicas, CancellationToken cancellationToken)
    {
#pragma warning disable ASPIREINTERACTION001 // experimental: command arguments
        var arguments = new Aspire.Hosting.InteractionInputCollection(
            [new Aspire.Hosting.InteractionInput { Name = LiveReplicasExtensions.ReplicasArgument, InputType = Aspire.Hosting.InputType.Number, Value = replicas }]);
#pragma warning restore ASPIREINTERACTION001
        return await App.ResourceCommands.ExecuteCommandAsync($"{project}-replicas", LiveReplicasExtensions.ScaleCommand, arguments, cancellationToken);
    }

    /// <summary>The instances of a project and the state each shows now, by resource id.</summary>
    public async Task<IReadOnlyDictionary<string, string?>> InstancesAsync(string project, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, string?>();
        using var replayed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        replayed.CancelAfter(TimeSpan.FromMilliseconds(500)); // the watch replays every current state first, at once
        try
        {
            await foreach (var e in App.ResourceNotifications.WatchAsync(replayed.Token))
            {
                if (e.Resource.Name == project)
                {
                    states[e.ResourceId] = e.Snapshot.State?.Text;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        return states;
    }

    /// <summary>
    /// The last <paramref name="lines"/> lines a resource's processes wrote to their consoles, for a failure's report;
    /// a read that takes more than 10 s stops with a line saying so.
    /// </summary>
    public async Task<string> ConsoleTailAsync(string resource, int lines, CancellationToken cancellationToken)
    {
        var logs = App.Services.GetRequiredService<ResourceLoggerService>();
        var tail = new Queue<string>(lines);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var model = App.Services.GetRequiredService<DistributedApplicationModel>();
            await foreach (var batch in logs.GetAllAsync(model.Resources.Single(r => r.Name == resource)).WithCancellation(patience.Token))
            {
                foreach (var line in batch)
                {
                    if (tail.Count == lines)
                    {
                        tail.Dequeue();
                    }

                    tail.Enqueue(Regex.Replace(line.Content, @"\x1B\[[0-9;]*m", "")); // the console logger's colours
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            tail.Enqueue($"(reading {resource}'s console took more than 10 s; what came before is above)");
        }

        return string.Join(Environment.NewLine, tail);
    }

    /// <summary>The dashboard's login URL (it carries a browser token) and a client for its telemetry API.</summary>
    public async Task<(Uri Login, HttpClient Api)> DashboardAsync(CancellationToken cancellationToken)
    {
        var login = await App.GetDashboardUrlAsync(cancellationToken);
        var api = new HttpClient { BaseAddress = new Uri(login.GetLeftPart(UriPartial.Authority)) };
        if (DashboardApiKey is { } key)
        {
            api.DefaultRequestHeaders.Add("x-api-key", key);
        }

        return (login, api);
    }

    /// <summary>The key of the dashboard's telemetry API (header x-api-key); null when it asks for none.</summary>
    public string? DashboardApiKey => Setting("AppHost:DashboardApiKey");

    /// <summary>Where the dashboard takes OTLP over HTTP (what browsers and Node's exporters use), and the key it asks for (null: none).</summary>
    public (Uri Endpoint, string? ApiKey) DashboardOtlpHttp() => (App.GetEndpoint("aspire-dashboard", "otlp-http"), Setting("AppHost:OtlpApiKey"));

    private string? Setting(string name) =>
        App.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()[name] is { Length: > 0 } value ? value : null;

    private async Task WaitUntilHealthyAsync(IDistributedApplicationTestingBuilder builder, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var expected = builder.Resources
            .Where(r => r is ProjectResource or IResourceWithConnectionString && r is not ParameterResource)
            .ToDictionary(r => r.Name, r =>
                r.TryGetLastAnnotation<LiveReplicasAnnotation>(out var live) ? live.Initial
                : r.TryGetLastAnnotation<ReplicaAnnotation>(out var replicas) ? replicas.Replicas : 1);

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
