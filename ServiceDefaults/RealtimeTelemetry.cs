using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The realtime telemetry every service shares: our ActivitySources and Meters (all named RealtimeDemo.*,
/// declared in each component's Telemetry class, listed in docs/telemetry.md), the sampling policy, and
/// short traces for long-lived connections.
/// </summary>
public static class RealtimeTelemetry
{
    public const string OurNames = "RealtimeDemo.*";
    public const string SampleRatioSetting = "Telemetry:TraceSampleRatio";
    public const string TracesSetting = "Telemetry:Traces";
    public const string MetricsSetting = "Telemetry:Metrics";

    /// <summary>Aspire's Redis integration's own switch; set when traces are off, read by ServerShared's Redis client.</summary>
    public const string RedisTracingOffSetting = "Aspire:StackExchange:Redis:DisableTracing";

    /// <summary>Telemetry:Traces (default true): false switches every tracer off, for measuring what tracing costs.</summary>
    public static bool TracesEnabled(IConfiguration configuration) => Flag(configuration, TracesSetting);

    /// <summary>Telemetry:Metrics (default true): false switches metrics off.</summary>
    public static bool MetricsEnabled(IConfiguration configuration) => Flag(configuration, MetricsSetting);

    private static bool Flag(IConfiguration configuration, string setting) => configuration[setting] switch
    {
        null => true,
        var value when bool.TryParse(value, out var enabled) => enabled,
        var value => throw new InvalidSettingException($"{setting} must be true or false; it is '{value}'."),
    };

    /// <summary>
    /// Parent-based ratio sampling (Telemetry:TraceSampleRatio, default 1): a trace is kept or dropped as a
    /// whole, wherever it continues; and no trace starts with background work (<see cref="PersonCausedSampler"/>).
    /// Metrics are not sampled; they always count everything.
    /// </summary>
    public static Sampler Sampler(IConfiguration configuration)
    {
        var value = configuration[SampleRatioSetting];
        if (value is null)
        {
            return new PersonCausedSampler(new AlwaysOnSampler());
        }

        return double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1
            ? new PersonCausedSampler(new TraceIdRatioBasedSampler(ratio))
            : throw new InvalidSettingException($"{SampleRatioSetting} must be a number from 0 to 1; it is '{value}'.");
    }

    /// <summary>
    /// Requests that are part of loading a page rather than something a person does (its scripts, styles and
    /// Blazor's own endpoints; the circuit's start is the trace of that), and health probes.
    /// </summary>
    public static bool IsPlumbing(HttpRequest request) =>
        request.Path.StartsWithSegments(Extensions.HealthEndpointPath)
        || request.Path.StartsWithSegments(Extensions.AlivenessEndpointPath)
        || request.Path.StartsWithSegments("/_blazor")
        || request.Path.StartsWithSegments("/_framework")
        || request.Path.StartsWithSegments("/_content")
        || Path.HasExtension(request.Path.Value);

    /// <summary>
    /// A WebSocket request lives as long as its connection, for hours. Its span is not recorded (see the
    /// ASP.NET Core filter in ConfigureOpenTelemetry), and nothing the connection does later is parented to
    /// it: each connect, message and disconnect starts its own short trace.
    /// </summary>
    public static IApplicationBuilder UseShortConnectionTraces(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (IsWebSocketUpgrade(context.Request))
            {
                Activity.Current = null;
            }

            return next(context);
        });

    /// <summary>
    /// Whether the request asks for a WebSocket, from its headers alone: the tracing filter runs before the
    /// WebSockets feature exists, so HttpContext.WebSockets.IsWebSocketRequest would still say no.
    /// </summary>
    public static bool IsWebSocketUpgrade(HttpRequest request) =>
        request.Headers.Upgrade.Any(value => value?.Contains("websocket", StringComparison.OrdinalIgnoreCase) == true)
        || HttpMethods.IsConnect(request.Method);
}
