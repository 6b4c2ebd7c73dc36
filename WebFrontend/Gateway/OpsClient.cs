using System.Net.Http.Headers;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// Reads the gateway's GET /ops/snapshot for the operations view. The endpoint is for signed-in callers; the
/// frontend signs in as itself ("ops-view"), so looking at the cluster does not need a chat sign-in.
/// </summary>
public sealed class OpsClient(HttpClient http, GatewayTokens tokens, TimeProvider time)
{
    private const string ViewerName = "ops-view";
    private static TokenResponse? _token;

    public async Task<OpsSnapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        if (_token is not { } token || token.ExpiresAt - time.GetUtcNow() < TimeSpan.FromMinutes(2))
        {
            _token = token = await tokens.GetAsync(ViewerName, cancellationToken);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/ops/snapshot");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<OpsSnapshot>(cancellationToken))!;
    }
}
