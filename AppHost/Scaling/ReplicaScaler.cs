using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RealtimeDemo.AppHost.Scaling;

/// <summary>
/// Runs some of a project's declared instances and starts or stops instances to reach a count asked for while the
/// app runs (Aspire itself cannot change a replica count at run time). Instances start in the order Aspire announces
/// them and stop newest first. An instance to stop is asked to drain (it exits by itself, 0, once its clients were
/// told to reconnect elsewhere); only one that does not is stopped by the orchestrator. It then shows "Scaled in"
/// rather than a finished or failed process, and is hidden from the dashboard's resource list until it starts again.
/// </summary>
internal sealed class ReplicaScaler(ReplicaSetResource replicaSet, int initial, int max, ParameterResource opsAccessKey)
{
    public const string ScaledInState = "Scaled in";
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DrainPatience = TimeSpan.FromSeconds(20);
    private static readonly HttpClient InstanceProbe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Instance> _instances = []; // by resource id
    private readonly SemaphoreSlim _oneScaleAtATime = new(1, 1);
    private readonly SemaphoreSlim _oneStartAtATime = new(1, 1);
    private long _startCount;
    private bool _ready;
    private bool _firstStartFailed;
    private IServiceProvider _services = null!;
    private ILogger _log = null!;

    private ProjectResource Project => replicaSet.Project;

    private ResourceNotificationService Notifications => _services.GetRequiredService<ResourceNotificationService>();

    /// <summary>Watches the project's instances from the app's start to its stop: starts the first ones, keeps stopped ones labelled.</summary>
    public void Start(IServiceProvider services)
    {
        _services = services;
        _log = services.GetRequiredService<ResourceLoggerService>().GetLogger(replicaSet);
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        _ = Task.Run(() => WatchAsync(stopping), stopping);
    }

    public async Task<ExecuteCommandResult> ScaleAsync(int replicas, CancellationToken cancellationToken)
    {
        if (replicas < 1 || replicas > max)
        {
            return CommandResults.Failure($"{Project.Name} can run from 1 to {max} replicas ({replicas} asked for).");
        }

        await _oneScaleAtATime.WaitAsync(cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            var (toStart, toStop, from) = Plan(replicas);
            _log.LogInformation("Scaling {Project} from {From} to {To} replicas", Project.Name, from, replicas);
            var results = await Task.WhenAll(toStart.Select(id => StartInstanceAsync(id, cancellationToken))
                .Concat(toStop.Select(id => StopInstanceAsync(id, cancellationToken))));
            await PublishReplicaSetAsync();
            var failures = results.Where(r => r is not null).ToList();
            var changed = string.Join(", ", toStart.Select(id => $"started {id}").Concat(toStop.Select(id => $"stopped {id}")));
            var message = $"{Project.Name}: {from} → {LiveCount()} replicas in {clock.Elapsed.TotalSeconds:F1} s{(changed.Length > 0 ? $" ({changed})" : "")}.";
            _log.LogInformation("{Message}", message);
            return failures.Count == 0 ? CommandResults.Success(message) : CommandResults.Failure($"{message} {string.Join(" ", failures)}");
        }
        finally
        {
            _oneScaleAtATime.Release();
        }
    }

    // Which instances to start (the earliest announced that are not running) or stop (the newest started).
    private (List<string> ToStart, List<string> ToStop, int From) Plan(int replicas)
    {
        lock (_lock)
        {
            // One meant to run that has stopped by itself (crashed, killed by hand, stopped from the dashboard, failed
            // to start) no longer counts, so asking for the same count again brings the set back to it.
            foreach (var instance in _instances.Values.Where(i => i.Wanted && IsStopped(i.State)))
            {
                instance.Wanted = false;
            }

            var wanted = _instances.Where(i => i.Value.Wanted).OrderByDescending(i => i.Value.StartedAs).Select(i => i.Key).ToList();
            var toStop = wanted.Take(Math.Max(0, wanted.Count - replicas)).ToList();
            var toStart = _instances.Where(i => !i.Value.Wanted && CanStart(i.Value.State)).OrderBy(i => i.Value.AnnouncedAs)
                .Take(Math.Max(0, replicas - wanted.Count)).Select(i => i.Key).ToList();
            foreach (var id in toStop)
            {
                _instances[id].Wanted = false;
            }

            foreach (var id in toStart)
            {
                _instances[id].Wanted = true;
                _instances[id].StartedAs = ++_startCount;
            }

            return (toStart, toStop, wanted.Count);
        }
    }

    /// <summary>Starts one instance and waits until it answers on its own port; null, or why it did not.</summary>
    private async Task<string?> StartInstanceAsync(string id, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var started = await StartCommandAsync(id, cancellationToken);
        if (!started.Success)
        {
            return $"{id} did not start: {started.Message}";
        }

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(StartPatience);
        try
        {
            // Not any stopped state: the one it was in before this start may be reported again.
            var running = await Notifications.WaitForResourceAsync(Project.Name,
                e => e.ResourceId == id && (e.Snapshot.State?.Text == KnownResourceStates.Running || e.Snapshot.State?.Text == KnownResourceStates.FailedToStart), patience.Token);
            if (running.Snapshot.State?.Text != KnownResourceStates.Running)
            {
                return $"{id} stopped while starting ({running.Snapshot.State?.Text}); its console log says why.";
            }

            await AnswersAsync(running.Snapshot, patience.Token);
            _log.LogInformation("{Instance} answers {Seconds:F1} s after the start command", id, clock.Elapsed.TotalSeconds);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{id} did not answer within {StartPatience.TotalSeconds:F0} s of its start.";
        }
    }

    // Aspire 13.6 resolves an instance's environment at its start through callbacks whose results it caches per
    // project, and forgets that cache at each start: two instances starting at once could get each other's half-built
    // environment (seen: an instance without its URLs or its environment name). So instances start one at a time.
    private async Task<ExecuteCommandResult> StartCommandAsync(string id, CancellationToken cancellationToken)
    {
        await _oneStartAtATime.WaitAsync(cancellationToken);
        try
        {
            return await _services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(id, KnownResourceCommands.StartCommand, cancellationToken);
        }
        finally
        {
            _oneStartAtATime.Release();
        }
    }

    private async Task<string?> StopInstanceAsync(string id, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (await DrainAsync(id, cancellationToken) is { } notDrained)
        {
            // Aspire's stop ends the instance's process tree within seconds: its clients are cut off and reconnect.
            _log.LogWarning("{Instance} did not drain ({Reason}); stopping it", id, notDrained);
            var stopped = await _services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(id, KnownResourceCommands.StopCommand, cancellationToken);
            if (!stopped.Success)
            {
                return $"{id} did not stop: {stopped.Message}";
            }
        }

        _log.LogInformation("{Instance} drained and stopped in {Seconds:F1} s", id, clock.Elapsed.TotalSeconds);
        await LabelScaledInAsync(id);
        return null;
    }

    /// <summary>Asks the instance on its own port to drain and waits until its process has ended; null, or why it did not.</summary>
    private async Task<string?> DrainAsync(string id, CancellationToken cancellationToken)
    {
        if (!Notifications.TryGetCurrentState(id, out var current) || OwnAddress(current.Snapshot) is not { } address)
        {
            return "its address is unknown";
        }

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(DrainPatience);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, "/ops/drain"));
            request.Headers.Add("X-Ops-Key", await opsAccessKey.GetValueAsync(cancellationToken));
            using var response = await InstanceProbe.SendAsync(request, patience.Token);
            if (!response.IsSuccessStatusCode)
            {
                return $"it answered the drain request with {(int)response.StatusCode}";
            }

            // The wait starts from the instance's current state, so an exit before this line still counts.
            await Notifications.WaitForResourceAsync(Project.Name, e => e.ResourceId == id && IsStopped(e.Snapshot.State?.Text), patience.Token);
            return null;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return ex is OperationCanceledException ? $"still running {DrainPatience.TotalSeconds:F0} s after the request" : "it did not take the drain request";
        }
    }

    private async Task WatchAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var e in Notifications.WatchAsync(stopping))
            {
                if (e.Resource == Project)
                {
                    await OnInstanceChangedAsync(e.ResourceId, e.Snapshot.State?.Text, e.Snapshot.IsHidden, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task OnInstanceChangedAsync(string id, string? state, bool hidden, CancellationToken stopping)
    {
        bool startNow, label, show, recount;
        lock (_lock)
        {
            if (!_instances.TryGetValue(id, out var instance))
            {
                instance = _instances[id] = new Instance { AnnouncedAs = _instances.Count };
                if (WantedUnderLock() < initial)
                {
                    instance.Wanted = true;
                    instance.StartedAs = ++_startCount;
                }
            }

            // One meant to run stopped or came back: the set's replica count changes.
            recount = instance.Wanted && IsStopped(state) != IsStopped(instance.State);
            instance.State = state;
            // Only an instance that never started or has stopped is started: one still waiting for Redis would skip that wait.
            startNow = instance.Wanted && !instance.FirstStartRequested && state == KnownResourceStates.NotStarted;
            instance.FirstStartRequested |= startNow;
            // The orchestrator reports each stop (and re-reports it when the shared proxy changes); the label goes back on.
            label = !instance.Wanted && (state == KnownResourceStates.NotStarted || IsStopped(state));
            // A scaled-in instance started again (by a scale, or from the dashboard's list of hidden resources) shows again.
            show = hidden && state != ScaledInState && !label;
        }

        if (show)
        {
            await ShowAsync(id);
        }

        if (startNow)
        {
            _ = StartFirstAsync(id, stopping);
        }

        if (label)
        {
            await LabelScaledInAsync(id);
        }

        if (recount)
        {
            await PublishReplicaSetAsync();
        }
    }

    private async Task StartFirstAsync(string id, CancellationToken stopping)
    {
        if (await StartInstanceAsync(id, stopping) is { } failure)
        {
            // Whatever waits for the replica set (the frontend) would otherwise wait for ever; this way it fails, saying so.
            _log.LogError("{Failure}", failure);
            lock (_lock)
            {
                _firstStartFailed = true;
            }

            await PublishReplicaSetAsync();
            return;
        }

        bool nowReady;
        lock (_lock)
        {
            nowReady = !_ready && _instances.Count(i => i.Value.Wanted && i.Value.State == KnownResourceStates.Running) >= initial;
            _ready |= nowReady;
        }

        if (nowReady)
        {
            await PublishReplicaSetAsync();
        }
    }

    // Hidden as well: with the default maximum of 8, the dashboard's resource list was mostly idle instances, each
    // offering a Stop that did nothing. Its "Show hidden resources" brings them back; a start shows the instance again.
    private Task LabelScaledInAsync(string id) =>
        Notifications.PublishUpdateAsync(Project, id, s => s with { State = new ResourceStateSnapshot(ScaledInState, KnownResourceStateStyles.Info), IsHidden = true });

    private Task ShowAsync(string id) => Notifications.PublishUpdateAsync(Project, id, s => s with { IsHidden = false });

    private Task PublishReplicaSetAsync()
    {
        int running;
        ResourceStateSnapshot state;
        lock (_lock)
        {
            running = LiveUnderLock();
            // After a failed first start, a scale that brings a replica up makes the set ready; until then it stays
            // failed (not "Starting", which would have the frontend wait for ever).
            _ready |= _firstStartFailed && _instances.Any(i => i.Value.Wanted && i.Value.State == KnownResourceStates.Running);
            state = _ready ? new ResourceStateSnapshot(KnownResourceStates.Running, KnownResourceStateStyles.Success)
                : _firstStartFailed ? new ResourceStateSnapshot(KnownResourceStates.FailedToStart, KnownResourceStateStyles.Error)
                : new ResourceStateSnapshot(KnownResourceStates.Starting, KnownResourceStateStyles.Info);
        }

        return Notifications.PublishUpdateAsync(replicaSet, s => s with
        {
            State = state,
            Urls = ProxyUrls(),
            Properties = [new ResourcePropertySnapshot("replicas.running", running) { DisplayName = "Replicas" }, new ResourcePropertySnapshot("replicas.max", max) { DisplayName = "Maximum" }],
        });
    }

    // Instances asked for and not stopped: those starting count; those stopping, or stopped by themselves, do not.
    private int LiveCount()
    {
        lock (_lock)
        {
            return LiveUnderLock();
        }
    }

    /// <summary>The instances meant to run; the caller holds <c>_lock</c>.</summary>
    private int WantedUnderLock() => _instances.Count(i => i.Value.Wanted);

    /// <summary>The instances meant to run that have not stopped; the caller holds <c>_lock</c>.</summary>
    private int LiveUnderLock() => _instances.Count(i => i.Value.Wanted && !IsStopped(i.Value.State));

    // The project's endpoints as the proxy in front of its instances serves them (the instances list none).
    private ImmutableArray<UrlSnapshot> ProxyUrls() =>
        [.. Project.Annotations.OfType<EndpointAnnotation>().Where(endpoint => endpoint.AllocatedEndpoint is not null)
            .Select(endpoint => new UrlSnapshot(endpoint.Name, endpoint.AllocatedEndpoint!.UriString, IsInternal: false))];

    // Its own port, not the proxy's: the proxy would answer from any running instance.
    private static async Task AnswersAsync(CustomResourceSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (OwnAddress(snapshot) is not { } instance)
        {
            return;
        }

        while (true)
        {
            try
            {
                using var response = await InstanceProbe.GetAsync(new Uri(instance, "/health"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    private static Uri? OwnAddress(CustomResourceSnapshot snapshot) =>
        snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value?.Split(';')[0] is { Length: > 0 } own
        && Uri.TryCreate(own, UriKind.Absolute, out var address)
            ? address
            : null;

    private static bool CanStart(string? state) => state == KnownResourceStates.NotStarted || state == ScaledInState || IsStopped(state);

    // "Terminated" is the orchestrator's word for a process it killed.
    private static bool IsStopped(string? state) => state is not null && (KnownResourceStates.TerminalStates.Contains(state) || state == "Terminated");

    private sealed class Instance
    {
        public int AnnouncedAs { get; init; }

        public long StartedAs { get; set; }

        public bool Wanted { get; set; }

        public bool FirstStartRequested { get; set; }

        public string? State { get; set; }
    }
}
