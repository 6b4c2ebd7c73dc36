using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// Keeps this gateway process marked alive in the registry and cleans up after processes that stopped
/// beating (a kill -9 leaves its connections in rooms): their users leave their rooms within seconds.
/// </summary>
internal sealed partial class ReplicaHeartbeat(
    PresenceRegistry registry,
    ChatHubService chat,
    ReplicaDrain drain,
    StorageGeneration storage,
    GatewayTelemetry telemetry,
    IConnectionMultiplexer redis,
    IOptions<ChatOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<ReplicaHeartbeat> logger)
    : BackgroundService
{
    private const int OrphanCheckEveryTicks = 4;

    private readonly FailureStreak _outage = new(time);
    private bool _registered;
    private Task _tick = Task.CompletedTask;
    private long _sweepNotBeforeTicks; // UTC ticks; written from Redis's connection events too

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A Redis restart can fall between two of this replica's beats, so that none of them fails while the
        // other replicas' beats did: the connection events say so even then.
        redis.ConnectionFailed += HoldOffSweeping;
        redis.ConnectionRestored += HoldOffSweeping;
        // A stopping replica beats no more from the moment its stop begins, not once the drain is over: with Redis out
        // of reach a beat waits for its timeouts, and the cleanup at stop would wait for that beat.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        try
        {
            await BeatUntilStoppedAsync(stopping.Token);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Ended by the stop, before the host asks it to: not a failure. (Left cancelled, it read as a background
            // service that failed, and a clean stop exited with 1, which the dashboard showed as a crash.)
        }
        finally
        {
            redis.ConnectionFailed -= HoldOffSweeping;
            redis.ConnectionRestored -= HoldOffSweeping;
        }
    }

    private async Task BeatUntilStoppedAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Registry.ReplicaTimeout / 4);
        for (var tick = 0; ; tick++)
        {
            // Redis commands take no token: a stop leaves a tick in flight behind rather than wait here for its timeouts.
            _tick = TickAsync(tick);
            await _tick.WaitAsync(stoppingToken);
            if (!await timer.WaitForNextTickAsync(stoppingToken))
            {
                return;
            }
        }
    }

    private async Task TickAsync(int tick)
    {
        try
        {
            await BeatAsync();

            // After this replica could not reach Redis, the others could not either: give them one full
            // timeout to beat again before taking anyone for dead.
            if (time.GetUtcNow().UtcTicks >= Interlocked.Read(ref _sweepNotBeforeTicks))
            {
                await SweepDeadReplicasAsync();
            }

            if (tick % OrphanCheckEveryTicks == 0 && await chat.ForgetOrphansAsync() is > 0 and var orphans)
            {
                LogOrphansForgotten(orphans);
            }

            if (_outage.Succeeded() is { } outage)
            {
                LogRegistryBack(outage.Lasted.TotalSeconds, outage.Failures);
            }
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            telemetry.BackgroundFailed(GatewayTelemetry.Operations.Heartbeat, ex);
            // An outage is said once; an error Redis answered (a script's, a permission) each time, as it is not one.
            if (!ex.IsRedisUnavailable() || _outage.Failed())
            {
                LogRegistryUnreachable(ex.GetType().Name);
            }

            HoldOffSweeping(this, EventArgs.Empty);
        }
    }

    private void HoldOffSweeping(object? sender, EventArgs e) =>
        Interlocked.Exchange(ref _sweepNotBeforeTicks, (time.GetUtcNow() + options.Value.Registry.ReplicaTimeout).UtcTicks);

    private async Task BeatAsync()
    {
        var lost = await storage.LostSinceLastCheckAsync(redis.GetDatabase());
        var unknown = await registry.HeartbeatAsync();
        if (lost)
        {
            // Registry, history and counters are gone; the connections are not. Put them back (rooms then count
            // their messages again from 1 under a new epoch, which clients follow).
            using var activity = StartRecovery(GatewayTelemetry.RestoreRegistrySpan, "storage_lost");
            LogStorageLost(await chat.RegisterLocalConnectionsAgainAsync());
        }
        else if (unknown && _registered)
        {
            // Another replica took this one for dead (a long pause) and removed its connections from the registry.
            using var activity = StartRecovery(GatewayTelemetry.RestoreRegistrySpan, "swept_while_alive");
            LogSweptWhileAlive(await chat.RegisterLocalConnectionsAgainAsync());
        }

        _registered = true;
    }

    private async Task SweepDeadReplicasAsync()
    {
        foreach (var replica in await registry.DeadReplicasAsync())
        {
            using var activity = StartRecovery(GatewayTelemetry.SweepSpan, "replica_dead")?.SetTag(ChatTelemetryAttributes.DeadReplica, replica);
            var removed = await RemoveReplicaAsync(replica);
            activity?.SetTag(ChatTelemetryAttributes.ConnectionsRemoved, removed);
            LogReplicaSwept(replica, removed);
        }
    }

    // A fault the system recovers from is a trace of its own, with the Redis commands of the recovery under it.
    private static System.Diagnostics.Activity? StartRecovery(string name, string reason) =>
        GatewayTelemetry.Source.StartActivity(name, System.Diagnostics.ActivityKind.Internal, parentContext: default)?
            .SetTag(ChatTelemetryAttributes.RecoveryReason, reason);

    private async Task<int> RemoveReplicaAsync(string replica)
    {
        var connections = await registry.ConnectionsOfAsync(replica);
        foreach (var connection in connections)
        {
            await chat.ForgetConnectionAsync(connection);
        }

        await registry.ForgetReplicaAsync(replica);
        return connections.Count;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            // Connections still open are closing with the process; their own disconnects then find nothing left.
            // A Redis that does not answer (frozen, or a network that drops packets) holds it no longer than the drain.
            drain.ThrowIfLeavingWithoutRedis();
            // Behind the AppHost's proxy the client can take a Redis that is down for connected (the proxy accepts,
            // then drops): a last beat that failed says enough, where each command would wait for its timeout.
            if (_outage.Failing)
            {
                throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "The last heartbeat could not reach Redis.");
            }

            // A tick the stop left in flight ends first: its beat would otherwise mark this replica alive after the cleanup.
            await _tick.WaitAsync(ReplicaDrain.Patience, time, cancellationToken);
            await RemoveReplicaAsync(registry.ReplicaKey).WaitAsync(ReplicaDrain.Patience, time, cancellationToken);
        }
        catch (Exception ex)
        {
            // Redis is out of reach (a timeout, or the multiplexer cancelling what it still had queued): the other
            // replicas' sweep finishes the cleanup. A stop must not fail for it.
            telemetry.BackgroundFailed(GatewayTelemetry.Operations.RegistryCleanup, ex);
            LogCleanupAtStopFailed(ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway process {Replica} stopped beating; removed its {Connections} connections from the registry")]
    private partial void LogReplicaSwept(string replica, int connections);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This process was taken for dead and swept from the registry while alive; registered its {Connections} connections again")]
    private partial void LogSweptWhileAlive(int connections);

    [LoggerMessage(Level = LogLevel.Information, Message = "Forgot {Connections} registry entries of this process whose connections are gone")]
    private partial void LogOrphansForgotten(int connections);

    [LoggerMessage(Level = LogLevel.Error, Message = "Redis lost its data (the storage generation marker is gone); registered this process's {Connections} connections again")]
    private partial void LogStorageLost(int connections);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing this process's connections from the registry at stop failed ({Error}); the other replicas remove them once this one stops beating")]
    private partial void LogCleanupAtStopFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry heartbeat failed ({Error}); retrying at every beat, and saying so once one gets through")]
    private partial void LogRegistryUnreachable(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registry heartbeat gets through again after {Seconds:F0} s; {Failures} beats failed meanwhile")]
    private partial void LogRegistryBack(double seconds, int failures);
}
