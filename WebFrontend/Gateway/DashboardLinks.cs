using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// Deep links into the Aspire dashboard, whose address the AppHost gives the frontend (Dashboard:Url). Without
/// a dashboard (a bare run, tests that turn it off) there is no address and the pages show no links.
/// </summary>
public sealed class DashboardLinks(IConfiguration configuration)
{
    public const string UrlSetting = "Dashboard:Url";

    private const string TracePath = "/traces/detail/";

    private readonly Uri? _dashboard = configuration[UrlSetting] is { Length: > 0 } url ? HttpUrlSetting.Read(UrlSetting, url, "http://localhost:15080") : null;

    public bool Available => _dashboard is not null;

    /// <summary>A trace's page is this followed by its trace id (the JavaScript page links its messages too).</summary>
    public string? TraceUrlPrefix => Link(TracePath);

    /// <summary>The trace a message travelled in, from the W3C trace context it carries; null when it carries none or was not sampled.</summary>
    public string? Trace(string? traceParent) =>
        _dashboard is not null && traceParent?.Split('-') is ["00", { Length: 32 } traceId, { Length: 16 }, var flags] && flags == "01"
            ? Link($"{TracePath}{traceId}")
            : null;

    /// <summary>One gateway replica on the Resources page (the dashboard names replicas after their instance id).</summary>
    public string? GatewayReplica(string replica) => Link($"/?resource={ConnectionNames.Gateway}-{Uri.EscapeDataString(replica)}");

    public string? GatewayReplicaMetrics(string replica) => Link($"/metrics/resource/{ConnectionNames.Gateway}-{Uri.EscapeDataString(replica)}");

    /// <summary>The worker's metrics, all its replicas together.</summary>
    public string? WorkerMetrics() => Link($"/metrics/resource/{ConnectionNames.Worker}");

    private string? Link(string pathAndQuery) => _dashboard is null ? null : new Uri(_dashboard, pathAndQuery).ToString();
}
