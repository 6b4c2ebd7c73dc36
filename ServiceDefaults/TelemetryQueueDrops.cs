using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The OpenTelemetry SDK queues spans and log records for export and drops what does not fit (OTEL_BSP_MAX_QUEUE_SIZE,
/// OTEL_BLRP_MAX_QUEUE_SIZE), when the export thread falls behind or the receiver stalls. It counts each drop on its
/// own meter (otel.sdk.experimental, switched on in BuiltInTelemetry) and says nothing, so a trace on the dashboard
/// missed spans with no word why. This logs it: the first drop at once, then at most once a minute while drops go on,
/// with how many.
/// </summary>
internal sealed class TelemetryQueueDrops(ILogger<TelemetryQueueDrops> log, TimeProvider time) : IHostedService, IDisposable
{
    public const string SdkMeter = "otel.sdk.experimental";
    private static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Drops> _drops = new()
    {
        ["otel.sdk.processor.span.processed"] = new("spans", "OTEL_BSP_MAX_QUEUE_SIZE"),
        ["otel.sdk.processor.log.processed"] = new("log records", "OTEL_BLRP_MAX_QUEUE_SIZE"),
    };

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SdkMeter && _drops.ContainsKey(instrument.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnProcessed);
        _listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();

    // Called for every span and log record the SDK takes: only those with an error.type (queue_full, already_shutdown) were lost.
    private void OnProcessed(Instrument instrument, long count, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "error.type")
            {
                Dropped(_drops[instrument.Name], instrument.Name, tag.Value?.ToString() ?? "unknown", count);
                return;
            }
        }
    }

    private void Dropped(Drops drops, string instrument, string reason, long count)
    {
        long unlogged;
        bool first;
        lock (_gate)
        {
            drops.Unlogged += count;
            if (drops.LastLogged is { } last && time.GetElapsedTime(last) < LogInterval)
            {
                return;
            }

            // Taken before logging: the log line itself can be dropped, and come back here on this thread.
            (first, unlogged, drops.Unlogged, drops.LastLogged) = (drops.LastLogged is null, drops.Unlogged, 0, time.GetTimestamp());
        }

        if (first)
        {
            log.LogWarning("{What} are being dropped before export ({Reason}): the OpenTelemetry SDK's queue ({Setting}) is full, and traces on the dashboard will miss them. Said again at most once a minute while it goes on; each counts in {Instrument}.",
                char.ToUpperInvariant(drops.What[0]) + drops.What[1..], reason, drops.Setting, instrument);
        }
        else
        {
            log.LogWarning("{Count} more {What} dropped before export ({Reason}) since the last such line.", unlogged, drops.What, reason);
        }
    }

    private sealed class Drops(string what, string setting)
    {
        public string What { get; } = what;
        public string Setting { get; } = setting;
        public long Unlogged { get; set; }
        public long? LastLogged { get; set; }
    }
}
