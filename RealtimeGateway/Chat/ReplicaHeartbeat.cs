using Microsoft.Extensions.Options;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// Keeps this gateway process marked alive in the registry and cleans up after processes that stopped
/// beating (a kill -9 leaves its connections in rooms): their users leave their rooms within seconds.
/// </summary>
internal sealed partial class ReplicaHeartbeat(
    PresenceRegistry registry,
    ChatHubService chat,
    IOptions<ChatOptions> options,
    ILogger<ReplicaHeartbeat> logger)
    : BackgroundService
{
    private const int OrphanCheckEveryTicks = 4;

    private bool _registered;
    private DateTimeOffset _sweepNotBefore;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Registry.ReplicaTimeout / 4);
        for (var tick = 0; ; tick++)
        {
            try
            {
                await BeatAsync();

                // After this replica could not reach Redis, the others could not either: give them one full
                // timeout to beat again before taking anyone for dead.
                if (DateTimeOffset.UtcNow >= _sweepNotBefore)
                {
                    await SweepDeadReplicasAsync();
                }

                if (tick % OrphanCheckEveryTicks == 0 && await chat.ForgetOrphansAsync() is > 0 and var orphans)
                {
                    LogOrphansForgotten(orphans);
                }
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
            {
                LogRegistryUnreachable(ex.GetType().Name);
                _sweepNotBefore = DateTimeOffset.UtcNow + options.Value.Registry.ReplicaTimeout;
            }

            if (!await timer.WaitForNextTickAsync(stoppingToken))
            {
                return;
            }
        }
    }

    private async Task BeatAsync()
    {
        var unknown = await registry.HeartbeatAsync();
        if (unknown && _registered)
        {
            // Another replica took this one for dead (a long pause) and removed its connections from the registry.
            LogSweptWhileAlive(await chat.RegisterLocalConnectionsAgainAsync());
        }

        _registered = true;
    }

    private async Task SweepDeadReplicasAsync()
    {
        foreach (var replica in await registry.DeadReplicasAsync())
        {
            LogReplicaSwept(replica, await RemoveReplicaAsync(replica));
        }
    }

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
            await RemoveReplicaAsync(registry.ReplicaKey);
        }
        catch (StackExchange.Redis.RedisException)
        {
            // Redis is gone too; the other replicas' sweep finishes the cleanup.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway process {Replica} stopped beating; removed its {Connections} connections from the registry")]
    private partial void LogReplicaSwept(string replica, int connections);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This process was taken for dead and swept from the registry while alive; registered its {Connections} connections again")]
    private partial void LogSweptWhileAlive(int connections);

    [LoggerMessage(Level = LogLevel.Information, Message = "Forgot {Connections} registry entries of this process whose connections are gone")]
    private partial void LogOrphansForgotten(int connections);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry heartbeat failed ({Error}); retrying")]
    private partial void LogRegistryUnreachable(string error);
}
