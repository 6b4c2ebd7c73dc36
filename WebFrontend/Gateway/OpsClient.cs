using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// Reads the gateway's GET /ops/snapshot for the operations view, with the ops access key the AppHost gives
/// both (Ops:AccessKey): looking at the cluster needs no chat sign-in, and a chat token alone cannot.
/// </summary>
public sealed class OpsClient(HttpClient http, IConfiguration configuration)
{
    public async Task<OpsSnapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ChatHubPaths.OpsSnapshot);
        request.Headers.Add(ChatHubPaths.OpsKeyHeader, configuration["Ops:AccessKey"]
            ?? throw new InvalidSettingException("Ops:AccessKey is not set: run under the AppHost, which generates it, or set Ops__AccessKey as for the gateway."));
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<OpsSnapshot>(cancellationToken))!;
    }
}
