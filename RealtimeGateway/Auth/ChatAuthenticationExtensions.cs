using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Auth;
using RealtimeDemo.RealtimeGateway.Telemetry;

namespace Microsoft.Extensions.Hosting;

public static class ChatAuthenticationExtensions
{
    /// <summary>Bearer tokens for the hub (header, or access_token on the hub path for WebSockets) and the token issuer.</summary>
    public static IServiceCollection AddChatAuthentication(this IServiceCollection services)
    {
        services.AddOptions<TokenOptions>().BindConfiguration(TokenOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<IUserIdProvider, NameUserIdProvider>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<TokenOptions>>((jwt, tokens) =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = tokens.Value.Issuer,
                    ValidAudience = tokens.Value.Audience,
                    IssuerSigningKey = new SymmetricSecurityKey(tokens.Value.SigningKeyBytes),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = TokenIssuer.NameClaim,
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
                jwt.Events = new JwtBearerEvents { OnMessageReceived = ReadHubAccessToken, OnChallenge = CountRejection };
            });
        services.AddAuthorization();
        return services;
    }

    /// <summary>POST /auth/token { "userName": "..." } → { "token", "expiresAt" }.</summary>
    public static RouteHandlerBuilder MapTokenEndpoint(this IEndpointRouteBuilder app) =>
        app.MapPost("/auth/token", IResult (TokenRequest? request, TokenIssuer issuer) =>
            ChatNames.IsValidUser(request?.UserName)
                ? TypedResults.Ok(issuer.Issue(request!.UserName!))
                : TypedResults.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "Invalid user name",
                    detail: $"userName must be {ChatNames.UserRule}."));

    // Browsers cannot set headers on a WebSocket, so the JavaScript client sends the token in the query
    // string; accept that on the hub path only, where no other endpoint can leak it into logs.
    private static Task ReadHubAccessToken(MessageReceivedContext context)
    {
        if (context.Request.Path.StartsWithSegments(ChatHubPaths.Hub)
            && context.Request.Query.TryGetValue("access_token", out var token)
            && !context.Request.Headers.Authorization.Any())
        {
            context.Token = token;
        }

        return Task.CompletedTask;
    }

    // A refused connection never reaches the hub, so its filter cannot count it; the challenge is where it ends.
    private static Task CountRejection(JwtBearerChallengeContext context)
    {
        context.HttpContext.RequestServices.GetRequiredService<GatewayTelemetry>().ConnectionRejected(context.AuthenticateFailure switch
        {
            null => "token_missing",
            SecurityTokenExpiredException => "token_expired",
            _ => "token_invalid",
        });
        return Task.CompletedTask;
    }

    private sealed class NameUserIdProvider : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) => connection.User.Identity?.Name;
    }
}

[OptionsValidator]
internal sealed partial class TokenOptionsValidator : IValidateOptions<TokenOptions>;
