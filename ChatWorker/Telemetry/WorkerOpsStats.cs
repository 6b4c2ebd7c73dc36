using System.Diagnostics.Metrics;
using RealtimeDemo.ChatWorker.Processing;
using RealtimeDemo.Contracts;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.ChatWorker.Telemetry;

/// <summary>Every second, this worker's lag, pending count and rate for the operations view, from its own metrics.</summary>
internal sealed partial class WorkerOpsStats(IConnectionMultiplexer redis, StreamBacklog backlog, ServiceInstance instance, TimeProvider time, ILogger<WorkerOpsStats> logger)
    : BackgroundService
{
    private readonly string _consumer = $"{instance.Id}.{Environment.ProcessId}";
    private long _processed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == WorkerTelemetry.Name && instrument.Name == "chat.worker.messages")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Value as string == EntryOutcomes.Processed)
                {
                    Interlocked.Add(ref _processed, value);
                }
            }
        });
        listener.Start();

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var last = time.GetUtcNow();
        var lagLastMinute = new LastMinute();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = time.GetUtcNow();
            var rate = Interlocked.Exchange(ref _processed, 0) / Math.Max(0.001, (now - last).TotalSeconds);
            last = now;
            try
            {
                // Redis commands take no token: a stop must not wait for their timeouts when Redis is out of reach.
                var lag = backlog.Lag.TotalSeconds;
                var stats = new WorkerStats(instance.Id, lag, backlog.Pending, rate, now, lagLastMinute.Add(lag));
                await OpsStatsStore.PublishAsync(redis.GetDatabase(), ChatRedisKeys.WorkerStatsIndex, _consumer, stats, now).WaitAsync(stoppingToken);
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
            await OpsStatsStore.ForgetAsync(redis.GetDatabase(), ChatRedisKeys.WorkerStatsIndex, _consumer)
                .WaitAsync(OpsStatsStore.ForgetPatience, time, cancellationToken);
        }
        catch (Exception ex)
        {
            // The worker's Redis loops log and count Redis being out of reach; the view shows this worker as silent a while.
            LogForgetFailed(ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ops stats not published ({Error})")]
    private partial void LogPublishFailed(string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ops stats not taken away at stop ({Error})")]
    private partial void LogForgetFailed(string error);
}
