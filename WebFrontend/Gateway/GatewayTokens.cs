using System.Net;
using Microsoft.AspNetCore.Mvc;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>Asks the gateway's development token issuer for a token.</summary>
public sealed class GatewayTokens(HttpClient http)
{
    public async Task<TokenResponse> GetAsync(string userName, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(ChatHubPaths.Token, new TokenRequest(userName), cancellationToken);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>(cancellationToken);
            throw new SignInRefusedException(problem?.Detail ?? "The gateway refused this user name.");
        }

        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken))!;
    }
}

public sealed class SignInRefusedException(string message) : Exception(message);
