using System.Diagnostics;
using System.Diagnostics.Metrics;
using RealtimeDemo.ChatWorker.Processing;
using RealtimeDemo.Contracts.Telemetry;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;

namespace RealtimeDemo.ChatWorker.Telemetry;

/// <summary>The worker's spans and metrics (docs/telemetry.md): a CONSUMER span per message, continuing the sender's trace.</summary>
public sealed class WorkerTelemetry
{
    public const string Name = "RealtimeDemo.ChatWorker";

    public static readonly ActivitySource Source = new(Name);

    /// <summary>Redis lost its data: the worker makes its consumer group again (a trace of its own).</summary>
    public const string RestoreGroupSpan = "restore consumer group";

    private readonly Counter<long> _messages;
    private readonly Histogram<double> _duration;

    // Observed, with a 0 from the start: a worker whose Redis never failed shows the count too.
    private readonly ObservedCounts _redisFailures = new(ErrorType, null, [null]);

    public WorkerTelemetry(IMeterFactory meters, StreamBacklog backlog)
    {
        var meter = meters.Create(Name);
        _messages = meter.CreateCounter<long>("chat.worker.messages", "{message}", "Stream entries handled, by outcome.");
        _duration = meter.CreateHistogram<double>("chat.worker.processing.duration", "s", "Time to handle one stream entry, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        meter.CreateObservableGauge("chat.worker.lag", () => backlog.Lag.TotalSeconds, "s", "Age of the oldest entry not yet processed (pending or not yet read).");
        meter.CreateObservableCounter("chat.worker.redis.failures", _redisFailures.Observe, "{failure}",
            "Tries at reading the stream that failed against Redis (out of reach, or refusing), one a second while it lasts, by error type.");
        meter.CreateObservableGauge("chat.worker.pending", () => backlog.Pending, "{message}", "Entries read by a worker but not yet acknowledged.");
    }

    public void RedisFailed(Exception error) => _redisFailures.Add(error.GetType().Name);

    public void Handled(string outcome, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>(Outcome, outcome);
        _messages.Add(1, tag);
        _duration.Record(duration.TotalSeconds, tag);
    }
}

/// <summary>The chat.outcome values of a stream entry.</summary>
public static class EntryOutcomes
{
    public const string Processed = "processed";
    public const string Duplicate = "duplicate";
    public const string Failed = "failed";
    public const string DeadLettered = "dead_lettered";
}
