using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// The gateway's hub URL, resolved once. The SignalR client does not use Aspire service discovery, so the
/// URL comes straight from the services:realtime-gateway:http:0 value the AppHost injects (or Gateway:Url).
/// </summary>
public sealed record GatewayAddress(Uri HubUrl)
{
    public const string UrlSetting = "Gateway:Url";

    public static GatewayAddress FromConfiguration(IConfiguration configuration)
    {
        var baseUrl = configuration[UrlSetting]
            ?? configuration[$"services:{ConnectionNames.Gateway}:http:0"]
            ?? throw new InvalidOperationException(
                $"No gateway URL: run under the AppHost (which injects services:{ConnectionNames.Gateway}:http:0) or set {UrlSetting}.");

        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException($"The gateway URL '{baseUrl}' is not an absolute http(s) URL.");
        }

        return new GatewayAddress(new Uri(uri, ChatHubPaths.Hub));
    }
}
