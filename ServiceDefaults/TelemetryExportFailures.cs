using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RealtimeDemo.Contracts.Telemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// OpenTelemetry's OTLP exporter tells of a batch it could not deliver only on its EventSource, which nothing reads:
/// with the dashboard or the collector away, a service lost its spans, metrics and logs without a word. This reads
/// that source: each failed export counts in chat.telemetry.export.failures (by reason), and a run of them is logged
/// once, when it starts, then again when an export gets through.
/// </summary>
internal sealed class TelemetryExportFailures(
    ILogger<TelemetryExportFailures> log, IHostApplicationLifetime lifetime, IConfiguration configuration, TimeProvider time, IMeterFactory meters)
    : EventListener, IHostedService
{
    public const string MeterName = "RealtimeDemo.Telemetry";
    private const string ExporterSource = "OpenTelemetry-Exporter-OpenTelemetryProtocol";

    // Initialised before EventListener's constructor runs, which already reports the sources that exist and can pass
    // on their events at once.
    private readonly ILogger _log = log;
    private readonly IHostApplicationLifetime _lifetime = lifetime;
    private readonly FailureStreak _streak = new(time);
    private readonly Lock _streakGate = new();
    private readonly ObservedCounts _failures = new("error.type", null, [null]);
    private readonly string _endpoint = WithoutPath(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
    private readonly IMeterFactory _meters = meters;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == ExporterSource)
        {
            // Informational for ExportSuccess, which ends a run of failures; a handful of events a second at most.
            EnableEvents(source, EventLevel.Informational);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs written)
    {
        if (written.EventName == "ExportSuccess")
        {
            Succeeded();
        }
        else if (FailureReason(written.EventName) is { } reason)
        {
            Failed(reason);
        }
    }

    // Each failed request is told by one of these, as the exporter's HTTP and gRPC clients word them; null for the rest.
    private static string? FailureReason(string? eventName) => eventName switch
    {
        "FailedToReachCollector" or "TransientHttpError" => "unreachable",
        "RequestTimedOut" => "timeout",
        "HttpRequestFailed" or "ExportFailure" => "rejected",
        "OperationUnexpectedlyCanceled" => "canceled",
        "ExportMethodException" or "TrySubmitRequestException" => "exporter_error",
        _ => null,
    };

    private void Succeeded()
    {
        lock (_streakGate)
        {
            if (_streak.Succeeded() is var (lasted, failures))
            {
                _log.LogInformation("Telemetry export to {Endpoint} works again, after {Seconds:F0} s in which {Failures} exports failed.",
                    _endpoint, lasted.TotalSeconds, failures);
            }
        }
    }

    private void Failed(string reason)
    {
        lock (_streakGate)
        {
            _failures.Add(reason);
            if (_streak.Failed())
            {
                // At a stop the dashboard has often stopped first (Ctrl+C on the AppHost): true, but not a warning.
                _log.Log(_lifetime.ApplicationStopping.IsCancellationRequested ? LogLevel.Information : LogLevel.Warning,
                    "Telemetry export to {Endpoint} failed ({Reason}); the spans, metrics or logs it held are lost. Logged once until an export succeeds; each failure counts in chat.telemetry.export.failures.",
                    _endpoint, reason);
            }
        }
    }

    // Scheme, host and port: what a person needs to find the receiver, and never a user name or password in the URL.
    private static string WithoutPath(string? endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}" : "the OTLP endpoint";

    // The listener itself is made with the host's services, so that it hears the first export.
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _meters.Create(MeterName).CreateObservableCounter("chat.telemetry.export.failures", _failures.Observe, "{export}",
            "Exports of spans, metrics or logs that did not reach the OTLP endpoint, by reason.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
