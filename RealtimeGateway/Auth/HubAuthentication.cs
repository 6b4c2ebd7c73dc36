using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Primitives;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;

namespace RealtimeDemo.RealtimeGateway.Auth;

/// <summary>
/// The chat hub's requests (negotiate and the WebSocket) are authenticated here, with the same bearer scheme, and
/// every other request by ASP.NET's authentication and authorization middlewares. Those two await the rest of the
/// pipeline, and for a WebSocket that is the connection's life: each kept its frame, the request's service scope,
/// the JWT handler, its result and two tickets, ~2 KB per idle connection (bench/findings.md). Here the scheme runs
/// in a scope of its own, ended before the connection starts, and nothing waits on the connection.
/// </summary>
internal static class HubAuthentication
{
    private const string Scheme = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>Whether the request was routed to the chat hub's endpoints (negotiate or connect).</summary>
    public static bool IsChatHub(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<HubMetadata>()?.HubType == typeof(ChatHub);

    /// <summary>
    /// Lets through only a request with a valid token for a chat user, as the authentication and authorization
    /// middlewares do for an endpoint that requires an authenticated user; any other gets the scheme's challenge.
    /// </summary>
    public static IApplicationBuilder UseHubAuthentication(this IApplicationBuilder hub)
    {
        var scopes = hub.ApplicationServices.GetRequiredService<IServiceScopeFactory>();
        return hub.Use((context, next) => AuthenticateHubRequest(context, next, scopes));
    }

    /// <summary>
    /// Once the client's handshake has arrived, drops what the request still held of the connection's credentials:
    /// the authentication result (the token's expiry stays as a claim of the user, for TokenExpiryClose), the parsed
    /// query with the token browsers must send in it (and the query string the request shows, but for the client id),
    /// and the Authorization header. They would otherwise live as long as the connection
    /// (~0.9 KB per idle connection, bench/findings.md). Kestrel keeps its own copy of an HTTP/1.1 request's target,
    /// token included, until the TCP connection closes: out of our reach. After the handshake, not before: until the
    /// WebSocket is accepted, SignalR's transport reads the request's headers on another thread, and the handshake
    /// only reaches the pipeline after that.
    /// </summary>
    public static IConnectionBuilder UseCredentialsReleased(this IConnectionBuilder connections) =>
        connections.Use(next => connection =>
        {
            if (connection.Features.Get<IHttpContextFeature>()?.HttpContext is { } http)
            {
                http.Features.Set<IAuthenticateResultFeature>(null);
                var clientId = http.Request.Query[ChatHubPaths.ClientIdParameter];
                var attempt = http.Request.Query[ChatHubPaths.AttemptParameter];
                http.Request.Query = QueryCollection.Empty; // and the query string the request shows
                if (clientId.Count > 0)
                {
                    // All but the client's id and attempt, which the hub reads at connect (ChatHubService).
                    List<KeyValuePair<string, StringValues>> kept = [new(ChatHubPaths.ClientIdParameter, clientId)];
                    if (attempt.Count > 0)
                    {
                        kept.Add(new(ChatHubPaths.AttemptParameter, attempt));
                    }

                    http.Request.QueryString = QueryString.Create(kept);
                }

                http.Request.Headers.Authorization = default;
            }

            return next(connection);
        });

    // Not async: the rest of the pipeline is the connection's life, and an awaiting frame here would be kept for it.
    private static Task AuthenticateHubRequest(HttpContext context, RequestDelegate next, IServiceScopeFactory scopes)
    {
        var authenticating = AuthenticateAsync(context, scopes);
        if (!authenticating.IsCompletedSuccessfully)
        {
            return ContinueWhenAuthenticatedAsync(authenticating, context, next); // the scheme had to wait (keys being fetched)
        }

        return authenticating.Result ? next(context) : Task.CompletedTask;
    }

    private static async Task ContinueWhenAuthenticatedAsync(Task<bool> authenticating, HttpContext context, RequestDelegate next)
    {
        if (await authenticating)
        {
            await next(context);
        }
    }

    // As the two middlewares do for the hub's endpoint: authenticate with the bearer scheme, and challenge (a 401
    // with the scheme's reason, counted by its OnChallenge) unless that gave an authenticated user.
    private static async Task<bool> AuthenticateAsync(HttpContext context, IServiceScopeFactory scopes)
    {
        // The scheme's services (its handler keeps its result) in a scope of their own, in place of the request's
        // for the time it takes: the request's scope lives as long as the WebSocket.
        var requestServices = context.Features.Get<IServiceProvidersFeature>();
        await using var scope = scopes.CreateAsyncScope();
        context.Features.Set<IServiceProvidersFeature>(new ServiceProvidersFeature { RequestServices = scope.ServiceProvider });
        try
        {
            var result = await context.AuthenticateAsync(Scheme);
            if (!result.Succeeded || result.Principal.Identity?.IsAuthenticated != true)
            {
                await context.ChallengeAsync(Scheme);
                return false;
            }

            context.User = result.Principal;
            context.Features.Set<IAuthenticateResultFeature>(new AuthenticateResultFeature { AuthenticateResult = result });
            return true;
        }
        finally
        {
            context.Features.Set(requestServices);
        }
    }

    private sealed class AuthenticateResultFeature : IAuthenticateResultFeature
    {
        public AuthenticateResult? AuthenticateResult { get; set; }
    }
}
