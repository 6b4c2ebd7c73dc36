using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Telemetry;

/// <summary>
/// Cluster-wide numbers from the registry, read every few seconds so metric collection never waits on
/// Redis. Every replica reports the same values (filter by one replica in the dashboard).
/// </summary>
public sealed class ClusterSnapshot
{
    private volatile Snapshot _current = new(0, 0, new Dictionary<string, long>());

    public long Connections => _current.Connections;

    public long ActiveRooms => _current.ActiveRooms;

    public IEnumerable<Measurement<long>> MembersByTemplate() =>
        _current.MembersByTemplate.Select(m => new Measurement<long>(m.Value, new KeyValuePair<string, object?>(ChatTelemetryAttributes.MessagingDestinationTemplate, m.Key)));

    public async Task RefreshAsync(IDatabase db, RoomTemplate rooms)
    {
        var connections = db.SetLengthAsync(ChatRedisKeys.Connections);
        var active = db.SortedSetRangeByRankWithScoresAsync(ChatRedisKeys.ActiveRooms);
        await Task.WhenAll(connections, active);

        var members = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var room in active.Result)
        {
            var template = rooms.For(room.Element!);
            members[template] = members.GetValueOrDefault(template) + (long)room.Score;
        }

        _current = new Snapshot(connections.Result, active.Result.Length, members);
    }

    private sealed record Snapshot(long Connections, long ActiveRooms, IReadOnlyDictionary<string, long> MembersByTemplate);
}

/// <summary>Refreshes <see cref="ClusterSnapshot"/>.</summary>
internal sealed partial class ClusterSnapshotRefresher(
    ClusterSnapshot snapshot, IConnectionMultiplexer redis, RoomTemplate rooms, IOptions<Chat.ChatOptions> options, ILogger<ClusterSnapshotRefresher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Registry.ReplicaTimeout / 2);
        do
        {
            try
            {
                // Redis commands take no token: a stop must not wait for their timeouts when Redis is out of reach.
                await snapshot.RefreshAsync(redis.GetDatabase(), rooms).WaitAsync(stoppingToken);
            }
            catch (Exception ex) when (ex.IsRedisFailure(stoppingToken))
            {
                LogRefreshFailed(ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Cluster metrics refresh failed ({Error})")]
    private partial void LogRefreshFailed(string error);
}
