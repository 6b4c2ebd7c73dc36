using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.ChatWorker.Processing;

/// <summary>
/// Unhealthy when the worker cannot read its backlog or has fallen too far behind; the description (and the log,
/// once per change) says which. A singleton, so that it remembers the last status it logged.
/// </summary>
internal sealed partial class StreamBacklogHealthCheck(StreamBacklog backlog, IOptions<WorkerOptions> options, TimeProvider time, ILogger<StreamBacklogHealthCheck> logger)
    : IHealthCheck
{
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(15);
    private HealthStatus _last = HealthStatus.Healthy;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (at, error) = backlog.LastReading;
        var threshold = options.Value.LagThreshold;
        var result = (error, time.GetUtcNow() - at > Stale, backlog.Lag > threshold) switch
        {
            ({ } e, true, _) => HealthCheckResult.Unhealthy($"Cannot read the message stream ({e}) for {Stale.TotalSeconds:F0} s."),
            (_, _, true) => HealthCheckResult.Unhealthy($"Lag {backlog.Lag.TotalSeconds:F0} s is over Worker:LagThreshold ({threshold.TotalSeconds:F0} s); {backlog.Pending} entries pending."),
            _ => HealthCheckResult.Healthy($"Lag {backlog.Lag.TotalSeconds:F1} s, {backlog.Pending} entries pending."),
        };

        // Say why in the log too, once per change, so the dashboard's console and structured logs show it.
        if (result.Status != _last)
        {
            _last = result.Status;
            if (result.Status == HealthStatus.Healthy)
            {
                LogHealthyAgain(result.Description ?? "");
            }
            else
            {
                LogHealthChanged(result.Status, result.Description ?? "");
            }
        }

        return Task.FromResult(result);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message stream backlog is {Status}: {Description}")]
    private partial void LogHealthChanged(HealthStatus status, string description);

    // Not a warning: the dashboard's structured logs showed the recovery in yellow, among the faults.
    [LoggerMessage(Level = LogLevel.Information, Message = "Message stream backlog is Healthy again: {Description}")]
    private partial void LogHealthyAgain(string description);
}
