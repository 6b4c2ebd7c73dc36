using System.Net;
using Microsoft.AspNetCore.Mvc;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>Asks the gateway's development token issuer for a token.</summary>
public sealed class GatewayTokens(HttpClient http)
{
    public async Task<TokenResponse> GetAsync(string userName, CancellationToken cancellationToken)
    {
        using var response = await PostAsync(userName, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // The gateway says why in a problem's detail (a bad name); anything else, by its status.
            var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                ? await response.Content.ReadFromJsonAsync<ProblemDetails>(cancellationToken)
                : null;
            // Except a 429's, whose detail names the limit's settings: for an operator, not the person signing in.
            throw new SignInRefusedException(response.StatusCode == HttpStatusCode.TooManyRequests
                ? "Too many sign-ins right now; wait a minute and try again."
                : problem?.Detail ?? $"The gateway refused the sign-in (HTTP {(int)response.StatusCode}); try again in a moment.");
        }

        return (await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken))!;
    }

    // Every try given up unanswered (GatewayClientExtensions bounds each) ends in the resilience library's own
    // exception, which the sign-in would not know: said as any other network failure.
    private async Task<HttpResponseMessage> PostAsync(string userName, CancellationToken cancellationToken)
    {
        try
        {
            return await http.PostAsJsonAsync(ChatHubPaths.Token, new TokenRequest(userName), cancellationToken);
        }
        catch (Polly.Timeout.TimeoutRejectedException ex)
        {
            throw new HttpRequestException("The gateway did not answer the token request.", ex);
        }
    }
}

public sealed class SignInRefusedException(string message) : Exception(message);
