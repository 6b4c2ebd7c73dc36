using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Telemetry;

namespace RealtimeDemo.RealtimeGateway.Auth;

public static class ChatAuthenticationExtensions
{
    private const string TokenRequestsPolicy = "token-requests";

    private const string RequestUrlLogCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>The token's expiry (seconds since 1970): a connection is closed at it (TokenExpiryClose), and its close counted as token_expired.</summary>
    public const string ExpiryClaim = "exp";

    /// <summary>Whether the user's token has expired. Compared in seconds: a validly signed token may carry an expiry beyond what a DateTimeOffset holds.</summary>
    public static bool TokenExpired(ClaimsPrincipal? user, TimeProvider time) =>
        long.TryParse(user?.FindFirst(ExpiryClaim)?.Value, out var expiresAt) && expiresAt <= time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>What a client is told when its token has expired: at connect, and when an open connection outlives it.</summary>
    public const string TokenExpiredSentence = "The token has expired: get a new one and connect again.";

    private const string TokenSentTwiceSentence =
        "The token was sent more than once (two Authorization headers, or access_token twice in the URL): send it once.";

    /// <summary>
    /// Bearer tokens for the hub (header, or access_token on the hub path for WebSockets), from an OpenID Connect
    /// identity provider (Auth:Authority) or the development issuer, and the rate limit on that issuer.
    /// </summary>
    public static IServiceCollection AddChatAuthentication(this IServiceCollection services)
    {
        services.AddSettings<TokenOptions>(TokenOptions.Section)
            .PostConfigure<IHostEnvironment>((tokens, environment) => tokens.DevelopmentTokens ??= !tokens.UsesAuthority && environment.IsDevelopment());
        services.AddSingleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<IUserIdProvider, NameUserIdProvider>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        // Hosting logs each request's URL, query string included, before any middleware runs; a browser's hub URL
        // carries its token there. Whatever the configuration says, that category logs warnings and errors only
        // (each request is still a span in the dashboard, its query's values redacted).
        services.AddLogging(logging => logging.AddFilter(RequestUrlLogCategory, LogLevel.Warning));
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<TokenOptions>>((jwt, options) =>
            {
                var tokens = options.Value;
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidAudience = tokens.Audience,
                    NameClaimType = tokens.UsesAuthority ? tokens.NameClaim : TokenIssuer.NameClaim,
                    RoleClaimType = tokens.RoleClaim,
                    // For a token's start (issued by a clock a little ahead of this one); its end has none (KeepChatUser).
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
                if (tokens.UsesAuthority)
                {
                    // Issuer and signing keys come from the provider's discovery document and JWKS; only
                    // asymmetric signatures, so no shared secret can ever sign a token the hub accepts.
                    jwt.Authority = tokens.Authority;
                    jwt.RequireHttpsMetadata = tokens.RequireHttpsMetadata;
                    jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSsaPssSha256];
                }
                else
                {
                    jwt.TokenValidationParameters.ValidIssuer = tokens.Issuer;
                    jwt.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(tokens.SigningKeyBytes);
                    jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
                }

                jwt.Events = new JwtBearerEvents { OnMessageReceived = ReadHubAccessToken, OnTokenValidated = KeepChatUser, OnChallenge = RefuseHubRequest };
            });
        services.AddAuthorization();

        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = RefuseTooManyTokenRequests;
            limiter.AddPolicy(TokenRequestsPolicy, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<TokenOptions>>().Value.TokenRequests;
                return ClientAddressRateLimit.TokenBucket(context, limits.Burst, 1, TimeSpan.FromMinutes(1) / limits.PermitsPerMinute);
            });
        });
        return services;
    }

    /// <summary>
    /// POST /auth/token { "userName": "..." } → { "token", "expiresAt" }: the development issuer, mapped only
    /// when it is on, and rate-limited per client address.
    /// </summary>
    public static IEndpointRouteBuilder MapTokenEndpoint(this IEndpointRouteBuilder app, string corsPolicy)
    {
        if (app.ServiceProvider.GetRequiredService<IOptions<TokenOptions>>().Value.DevelopmentTokens != true)
        {
            return app;
        }

        app.MapPost(ChatHubPaths.Token, async Task<IResult> (HttpRequest request, TokenIssuer issuer, CancellationToken cancellationToken) =>
            await TokenRequestReader.ReadAsync(request, cancellationToken) switch
            {
                ({ } userName, _, null) => TypedResults.Ok(issuer.Issue(userName)),
                (_, var field, var problem) => TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { [field] = [problem!] }, detail: problem, title: "The sign-in request is not valid."),
            })
            .RequireRateLimiting(TokenRequestsPolicy)
            .RequireCors(corsPolicy);
        return app;
    }

    // Browsers cannot set headers on a WebSocket, so the JavaScript client sends the token in the query
    // string; accept that on the hub path only, where no other endpoint can leak it into logs.
    // A token sent twice was read as one joined by a comma and refused as forged; it is refused saying what is wrong.
    private static Task ReadHubAccessToken(MessageReceivedContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count > 1 || (authorization.Count == 1 && authorization[0]!.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization[0]!.Contains(',')))
        {
            context.Fail(TokenSentTwiceSentence);
        }
        else if (authorization.Count == 0 && context.Request.Path.StartsWithSegments(ChatHubPaths.Hub)
            && context.Request.Query.TryGetValue("access_token", out var token))
        {
            if (token.Count > 1)
            {
                context.Fail(TokenSentTwiceSentence);
            }
            else
            {
                context.Token = token;
            }
        }

        return Task.CompletedTask;
    }

    // A valid signature is not enough: the name becomes the chat user, so it must follow the same rule as any name.
    // A hub connection keeps its user for its whole life: keep the claims something here reads (the name, the roles,
    // the expiry), not every claim of the token and the parsed token itself (~1.6 KB per idle connection).
    private static Task KeepChatUser(TokenValidatedContext context)
    {
        if (context.Principal?.Identity is not ClaimsIdentity { Name: var name } identity || !ChatNames.IsValidUser(name))
        {
            context.Fail($"The token's user name is not a chat user name ({ChatNames.UserRule}).");
            return Task.CompletedTask;
        }

        // A name claim given as an array arrives as one claim per value: a token for several users is for none.
        if (identity.FindAll(identity.NameClaimType).Skip(1).Any())
        {
            context.Fail("The token names more than one user.");
            return Task.CompletedTask;
        }

        // The validator allows the clock skew at a token's end too, but a connection is closed at its token's expiry
        // (TokenExpiryClose): one let in during the skew was closed within a second, and a client with a fixed token
        // came back at once, in a loop for 30 s. Refused at the door, it hears why once.
        if (TokenExpired(context.Principal, context.HttpContext.RequestServices.GetRequiredService<TimeProvider>()))
        {
            context.Fail(new SecurityTokenExpiredException(TokenExpiredSentence));
            return Task.CompletedTask;
        }

        var kept = identity.Claims.Where(claim => claim.Type == identity.NameClaimType || claim.Type == identity.RoleClaimType || claim.Type == ExpiryClaim)
            .Select(claim => new Claim(claim.Type, claim.Value, claim.ValueType));
        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(kept, identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType));
        return Task.CompletedTask;
    }

    // A refused connection never reaches the hub, so its filter cannot count it; the challenge is where it ends. On
    // the hub's paths it also says why, in our words: the scheme's own description names its internals ("The audience
    // '(null)' is invalid") or nothing, and a client that skips negotiation reads only this response.
    private static async Task RefuseHubRequest(JwtBearerChallengeContext context)
    {
        var (reason, sentence) = context.AuthenticateFailure switch
        {
            null => ("token_missing",
                "No token: send the one POST /auth/token (or your identity provider) gave as \"Authorization: Bearer <token>\", or from a browser as access_token in the hub's URL."),
            SecurityTokenExpiredException => ("token_expired", TokenExpiredSentence),
            AuthenticationFailureException ours => ("token_invalid", ours.Message), // KeepChatUser's, on the user name
            _ => ("token_invalid", "The token is not one this chat accepts: its signature, issuer, audience or dates do not match."),
        };
        context.HttpContext.RequestServices.GetRequiredService<GatewayTelemetry>().ConnectionRejected(reason);
        if (!HubAuthentication.IsChatHub(context.HttpContext))
        {
            return;
        }

        context.HandleResponse();
        context.Response.Headers.WWWAuthenticate = reason == "token_missing" ? "Bearer" : "Bearer error=\"invalid_token\"";
        await PlainTextAnswer.RefuseAsync(context.HttpContext, StatusCodes.Status401Unauthorized, sentence);
    }

    private static async ValueTask RefuseTooManyTokenRequests(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var limits = context.HttpContext.RequestServices.GetRequiredService<IOptions<TokenOptions>>().Value.TokenRequests;
        ClientAddressRateLimit.SetRetryAfter(context);

        await TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many sign-ins from this address.",
            detail: $"At most {limits.PermitsPerMinute} tokens a minute per client address from each gateway replica (each counts its own), " +
                $"in bursts of {limits.Burst} (Auth:TokenRequests:PermitsPerMinute, Auth:TokenRequests:Burst). Try again in a moment.")
            .ExecuteAsync(context.HttpContext);
    }

    private sealed class NameUserIdProvider : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) => connection.User.Identity?.Name;
    }
}

[OptionsValidator]
internal sealed partial class TokenOptionsValidator : IValidateOptions<TokenOptions>;
