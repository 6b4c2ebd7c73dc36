using RealtimeDemo.Contracts;
using RealtimeDemo.WebFrontend.Gateway;

namespace RealtimeDemo.WebFrontend.JavaScriptPage;

/// <summary>
/// A plain page (/js) that chats through the JavaScript client (clients/js) straight from the browser to the gateway,
/// and exports its spans to the Aspire dashboard. Its script is a bundle built from clients/js (test.sh and run.sh
/// build it into wwwroot/js/); the page says what to do when it is missing.
/// </summary>
public static class JavaScriptPageEndpoints
{
    public const string Path = "/js";

    /// <summary>The service name the page's spans carry in the dashboard, beside the frontend's own.</summary>
    public const string ServiceName = "webfrontend-browser";

    public static WebApplication MapJavaScriptPage(this WebApplication app)
    {
        var telemetry = BrowserTelemetryFrom(app.Configuration);
        app.MapGet(Path, () => Results.File("js/index.html", "text/html; charset=utf-8"));
        app.MapGet($"{Path}/settings", (GatewayAddress gateway, DashboardLinks dashboard) =>
            new JavaScriptPageSettings(
                gateway.BrowserHubUrl.ToString(),
                new Uri(gateway.BrowserHubUrl, ChatHubPaths.Token).ToString(),
                dashboard.TraceUrlPrefix,
                telemetry));
        return app;
    }

    // Read at start: a bad endpoint would otherwise fail every page's settings request.
    private static BrowserTelemetrySettings? BrowserTelemetryFrom(IConfiguration configuration) =>
        configuration[BrowserTelemetryEndpointSetting] is { Length: > 0 } endpoint
            ? new BrowserTelemetrySettings(
                new Uri(HttpUrlSetting.Read(BrowserTelemetryEndpointSetting, endpoint, "http://localhost:4318"), "/v1/traces").ToString(),
                configuration[BrowserTelemetryKeySetting], ServiceName)
            : null;

    // Set by the AppHost when a dashboard runs (AppHost/BrowserTelemetryExtensions.cs).
    private const string BrowserTelemetryEndpointSetting = "BrowserTelemetry:OtlpEndpoint";
    private const string BrowserTelemetryKeySetting = "BrowserTelemetry:OtlpApiKey";
}

/// <summary>What the page needs: where the gateway is, where a trace's page in the dashboard is, and where its spans go (null: nowhere).</summary>
public sealed record JavaScriptPageSettings(string HubUrl, string TokenUrl, string? TraceUrlPrefix, BrowserTelemetrySettings? Telemetry);

/// <summary>
/// The dashboard's OTLP/HTTP traces endpoint and the key it asks for. The key lets anyone who opens the page write to
/// the dashboard's telemetry: the AppHost hands it out only to a local run with the dashboard.
/// </summary>
public sealed record BrowserTelemetrySettings(string TracesUrl, string? ApiKey, string ServiceName);
