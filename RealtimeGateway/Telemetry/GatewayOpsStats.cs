using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Telemetry;

/// <summary>
/// Every second, this replica's numbers for the operations view, taken from its own metrics (a MeterListener
/// on <see cref="GatewayTelemetry"/>'s instruments), so the view and the dashboard never disagree.
/// </summary>
internal sealed partial class GatewayOpsStats(
    IConnectionMultiplexer redis, LocalConnections local, PresenceRegistry registry, GatewayTelemetry telemetry, ServiceInstance instance, TimeProvider time,
    ILogger<GatewayOpsStats> logger)
    : BackgroundService
{
    private readonly ConcurrentQueue<double> _latencies = new();
    private long _sends;
    private long _deliveries;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = Listen();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var last = time.GetUtcNow();
        var deliveriesLastMinute = new LastMinute();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = time.GetUtcNow();
            var seconds = Math.Max(0.001, (now - last).TotalSeconds);
            last = now;
            var latencies = Drain();
            var deliveries = Interlocked.Exchange(ref _deliveries, 0) / seconds;
            var stats = new GatewayReplicaStats(
                instance.Id, local.Ids.Count,
                Interlocked.Exchange(ref _sends, 0) / seconds,
                deliveries,
                Percentile(latencies, 0.50), Percentile(latencies, 0.99),
                redis.IsConnected, now, deliveriesLastMinute.Add(deliveries));
            try
            {
                // Redis commands take no token: a stop must not wait for their timeouts when Redis is out of reach.
                await OpsStatsStore.PublishAsync(redis.GetDatabase(), ChatRedisKeys.GatewayStatsIndex, registry.ReplicaKey, stats, now)
                    .WaitAsync(stoppingToken);
            }
            catch (Exception ex) when (ex.IsRedisFailure(stoppingToken))
            {
                LogPublishFailed(ex.GetType().Name);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await OpsStatsStore.ForgetAsync(redis.GetDatabase(), ChatRedisKeys.GatewayStatsIndex, registry.ReplicaKey)
                .WaitAsync(OpsStatsStore.ForgetPatience, time, cancellationToken);
        }
        catch (Exception ex)
        {
            // The registry's cleanup at stop logs and counts Redis being out of reach; the view shows this replica as silent a while.
            LogForgetFailed(ex.GetType().Name);
        }
    }

    private MeterListener Listen()
    {
        var (accepted, deliveries, deliveryDuration) = telemetry.OpsInstruments;
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument == accepted || instrument == deliveries || instrument == deliveryDuration)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument == deliveries)
            {
                Interlocked.Add(ref _deliveries, value);
            }
            else
            {
                Interlocked.Add(ref _sends, value);
            }
        });
        listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
        {
            if (_latencies.Count < 100_000)
            {
                _latencies.Enqueue(seconds * 1000);
            }
        });
        listener.Start();
        return listener;
    }

    private List<double> Drain()
    {
        var drained = new List<double>();
        while (_latencies.TryDequeue(out var latency))
        {
            drained.Add(latency);
        }

        drained.Sort();
        return drained;
    }

    private static double? Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? null : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ops stats not published ({Error})")]
    private partial void LogPublishFailed(string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ops stats not taken away at stop ({Error})")]
    private partial void LogForgetFailed(string error);
}
