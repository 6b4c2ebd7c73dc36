using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

// The Aspire template's service defaults (service discovery, resilience, health checks, OpenTelemetry),
// plus the telemetry ASP.NET Core SignalR and Blazor already emit. Every service calls AddServiceDefaults().
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();

        builder.AddDefaultHealthChecks();

        builder.Services.AddSingleton(ServiceInstance.FromEnvironment());

        builder.Services.AddServiceDiscovery();

        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        // The resilience handler logs every attempt of every call at Information, each OTLP export over HTTP
        // included, and those lines are exported too: one log per export, forever.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // The AppHost turns OpenTelemetry's redaction of query strings off for every project it runs. A token sent in
        // a query string (a browser's WebSocket cannot send a header) then reached the dashboard in url.query. Values
        // stay redacted whoever asks otherwise; the names remain.
        builder.Configuration["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "false";
        builder.Configuration["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "false";

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry();
        if (RealtimeTelemetry.MetricsEnabled(builder.Configuration))
        {
            telemetry.WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(BuiltInTelemetry.Meters)
                .AddMeter(RealtimeTelemetry.OurNames));
        }

        // Read even with traces off: a mistyped ratio is refused at start, not when traces are turned on one day.
        var sampler = RealtimeTelemetry.Sampler(builder.Configuration);
        if (RealtimeTelemetry.TracesEnabled(builder.Configuration))
        {
            telemetry.WithTracing(tracing => tracing
                .SetSampler(sampler)
                .AddProcessor(new TypingUntraced())
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(BuiltInTelemetry.ActivitySources)
                .AddSource(RealtimeTelemetry.OurNames)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                    // Health probes and a page's assets would bury the chat traces; a WebSocket request lasts as
                    // long as its connection (see UseShortConnectionTraces).
                    aspNetCore.Filter = context =>
                        !RealtimeTelemetry.IsPlumbing(context.Request) && !RealtimeTelemetry.IsWebSocketUpgrade(context.Request))
                .AddHttpClientInstrumentation());
        }
        else
        {
            // Read by ServerShared's AddChatRedisClient (and by Aspire's Redis integration, if used alone): no Redis
            // command spans either.
            builder.Configuration[RealtimeTelemetry.RedisTracingOffSetting] = "true";
        }

        builder.AddOpenTelemetryExporters();

        return builder;
    }

    /// <summary>The names OpenTelemetry's OTLP exporter asks IHttpClientFactory for, one per signal.</summary>
    private static readonly string[] OtlpExporterClients = ["OtlpTraceExporter", "OtlpMetricExporter", "OtlpLogExporter"];

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var endpoint = builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            // The exporter itself drops a value it cannot use without a word, and with it every span, metric and log.
            HttpUrlSetting.Read("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, "http://localhost:4317");

            // The SDK queues 2,048 spans and silently drops the rest: at a few thousand messages/s (4+ spans
            // each) that is half a second, less than the export thread can wait for a busy core. Measured in the
            // benchmark's W1: 3.5 spans per message arrived where every message makes at least 4; 4.1 with this.
            builder.Configuration["OTEL_BSP_MAX_QUEUE_SIZE"] ??= "16384";
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
            builder.Services.AddHostedService<TelemetryExportFailures>();
            builder.Services.AddHostedService<TelemetryQueueDrops>();

            // A service's last exports go out as it stops, and on Ctrl+C the dashboard has stopped first. Two retry
            // layers then held each stop for 8–10 s, until the AppHost killed the process: the exporter's own
            // (the AppHost sets OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY=in_memory, which retries for the export's whole
            // 10 s timeout) and the standard resilience handler above, which IHttpClientFactory gives the exporter's
            // clients too. A batch the receiver does not take is dropped instead, as the exporter does by default.
            builder.Configuration["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "";
            foreach (var client in OtlpExporterClients)
            {
#pragma warning disable EXTEXP0001 // Marked "for evaluation"; the documented way to take one client out of the defaults.
                builder.Services.AddHttpClient(client).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
            }
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        return builder;
    }

    // The status only: check names and descriptions are internals (each service logs why it turned unhealthy).
    private static Task WriteHealthReportAsync(Microsoft.AspNetCore.Http.HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return System.Text.Json.JsonSerializer.SerializeAsync(context.Response.Body, new { status = report.Status.ToString() });
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseShortConnectionTraces();

        // Mapped in every environment: the AppHost's health checks and any orchestrator's probes need them.
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = WriteHealthReportAsync });

        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains("live")
        });

        return app;
    }
}
