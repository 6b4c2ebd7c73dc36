using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// The gateway's hub URL, resolved once. The SignalR client does not use Aspire service discovery, so the
/// URL comes straight from the services:realtime-gateway:http:0 value the AppHost injects (or Gateway:Url).
/// Browsers (the /js page) use Gateway:BrowserUrl when set: behind an ingress they cannot reach the address this
/// process uses inside the cluster.
/// </summary>
public sealed record GatewayAddress(Uri HubUrl, Uri BrowserHubUrl)
{
    /// <summary>The gateway itself, for its HTTP endpoints (tokens, the ops snapshot): the address the hub URL is on.</summary>
    public Uri BaseUrl => new(HubUrl, "/");

    public const string UrlSetting = "Gateway:Url";
    public const string BrowserUrlSetting = "Gateway:BrowserUrl";

    public static GatewayAddress FromConfiguration(IConfiguration configuration)
    {
        var injected = $"services:{ConnectionNames.Gateway}:http:0";
        var setting = configuration[UrlSetting] is null ? injected : UrlSetting;
        var hubUrl = HubUrlOf(setting, configuration[setting]
            ?? throw new InvalidSettingException($"No gateway URL: run under the AppHost (which injects {injected}) or set {UrlSetting}."));
        return new GatewayAddress(hubUrl, configuration[BrowserUrlSetting] is { Length: > 0 } browserUrl ? HubUrlOf(BrowserUrlSetting, browserUrl) : hubUrl);
    }

    // Names the setting: with two URL settings, an operator must be told which one is wrong.
    private static Uri HubUrlOf(string setting, string baseUrl) => new(HttpUrlSetting.Read(setting, baseUrl, "http://localhost:5310"), ChatHubPaths.Hub);
}
