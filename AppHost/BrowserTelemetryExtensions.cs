using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace RealtimeDemo.AppHost;

public static class BrowserTelemetryExtensions
{
    /// <summary>
    /// Lets the frontend's JavaScript page (/js) send its spans to the dashboard, as the dashboard's browser-telemetry
    /// support intends: its OTLP/HTTP endpoint (BrowserTelemetry__OtlpEndpoint) and the key it asks every exporter for
    /// (BrowserTelemetry__OtlpApiKey, from AppHost:OtlpApiKey; absent when the dashboard admits anyone). The dashboard
    /// admits the page's origin by itself: with ASPIRE_DASHBOARD_CORS_ALLOWED_ORIGINS unset, the AppHost allows every
    /// resource's endpoints, the frontend's among them. Without a dashboard nothing is set and the page exports nothing.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithBrowserTelemetry(this IResourceBuilder<ProjectResource> frontend) =>
        frontend.WithEnvironment(context =>
        {
            if (AspireDashboard.Find(context)?.GetEndpoint("otlp-http") is { Exists: true } otlpHttp)
            {
                context.EnvironmentVariables["BrowserTelemetry__OtlpEndpoint"] = otlpHttp;
                if (context.ExecutionContext.Services.GetRequiredService<IConfiguration>()["AppHost:OtlpApiKey"] is { Length: > 0 } key)
                {
                    context.EnvironmentVariables["BrowserTelemetry__OtlpApiKey"] = key;
                }
            }
        });
}
