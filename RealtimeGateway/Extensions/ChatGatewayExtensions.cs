using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Auth;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.RealtimeGateway.HubPipeline;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;

namespace RealtimeDemo.RealtimeGateway.Extensions;

public static class ChatGatewayExtensions
{
    private const string BrowserClientsPolicy = "chat-browser-clients";

    /// <summary>The chat hub, its Redis channels, authentication, limits and the services behind it.</summary>
    public static IHostApplicationBuilder AddChatGateway(this IHostApplicationBuilder builder)
    {
        builder.AddChatRedisClient();
        // With Redis out of reach every service's last Redis call waits for its timeout; one after another they
        // added up to more than the shutdown timeout (Kubernetes then kills the pod mid-stop). Side by side, a stop
        // takes the slowest of them. (The drain before them has already closed the connections.)
        builder.Services.Configure<HostOptions>(host => host.ServicesStopConcurrently = true);
        builder.Services.AddSignalR();
        // Last registered wins the "json" name: every error a client reads passes through our wording.
        builder.Services.AddSingleton<IHubProtocol, ChatJsonHubProtocol>();
        builder.Services.AddChatAuthentication();
        builder.Services.AddProblemDetails();
        builder.Services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = false);
        builder.Services.AddSettings<OpsAccess>(OpsAccess.Section).ValidateDataAnnotations();

        // A browser's Origin header never ends in '/': an origin written with one (as many write a URL) would never match.
        builder.Services.AddSettings<ChatOptions>(ChatOptions.Section)
            .PostConfigure(chat => chat.AllowedOrigins = [.. chat.AllowedOrigins.Select(origin => origin.TrimEnd('/'))]);
        builder.Services.AddSingleton<IValidateOptions<ChatOptions>, ChatOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<ChatOptions>, AllowedOriginsValidator>();
        builder.Services.AddSingleton<IValidateOptions<ChatOptions>, TextFitsInFrameValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PresenceRegistry>();
        builder.Services.AddSingleton<MessageStore>();
        builder.Services.AddSingleton<LocalConnections>();
        builder.Services.AddSingleton<ReplicaDrain>();
        builder.Services.AddSingleton<ReplicaConnectionLimit>();
        builder.Services.AddSingleton<IDrainStep>(services => services.GetRequiredService<ReplicaDrain>());
        builder.Services.AddSingleton<MessageSender>();
        builder.Services.AddSingleton<RoomDelivery>();
        builder.Services.AddSingleton<PrivateDelivery>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PrivateDelivery>());
        builder.Services.AddSingleton<RoomMembership>();
        builder.Services.AddSingleton<ChatHubService>();
        builder.Services.AddSingleton<IChatHubService>(sp => sp.GetRequiredService<ChatHubService>());
        builder.Services.AddSingleton<IHubActivator<ChatHub>, ChatHubActivator>();
        builder.Services.AddHostedService<ReplicaHeartbeat>();
        builder.Services.AddHostedService<BackplaneRecovery>();

        // No SignalR backplane: rooms and private messages have their own Redis channels (RoomDelivery, PrivateDelivery).
        builder.Services.AddSingleton<HubLifetimeManager<ChatHub>, ChatHubLifetimeManager>();

        builder.Services.AddSingleton(RoomTemplate.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton<ClusterSnapshot>();
        builder.Services.AddSingleton<GatewayTelemetry>();
        builder.Services.AddHostedService<ClusterSnapshotRefresher>();
        builder.Services.AddHostedService<GatewayOpsStats>();

        // Filters added as instances: SignalR calls them directly. Added by type, each one is created, awaited
        // through a wrapper and disposed for every hub call (the wrappers alone were ~6% of what a message allocated,
        // bench/findings.md).
        builder.Services.AddSingleton<TelemetryHubFilter>();
        builder.Services.AddSingleton<HubErrorFilter>();
        builder.Services.AddSingleton<CallRateFilter>();
        builder.Services.AddSingleton<ArgumentRulesFilter>();
        builder.Services.AddOptions<HubOptions>().Configure<IOptions<ChatOptions>, TelemetryHubFilter, HubErrorFilter, CallRateFilter, ArgumentRulesFilter>(
            (hub, chat, telemetryFilter, errorFilter, rateFilter, argumentFilter) =>
        {
            var limits = chat.Value.Limits;
            hub.MaximumReceiveMessageSize = limits.MaxMessageBytes;
            hub.KeepAliveInterval = limits.KeepAliveInterval;
            hub.ClientTimeoutInterval = limits.ClientTimeoutInterval;
            // Detailed errors would show clients .NET exception names; ChatJsonHubProtocol words every error instead.
            hub.EnableDetailedErrors = false;
            hub.AddFilter(new SilentConnectionTimeout.CallsKeepAwake());
            hub.AddFilter(telemetryFilter);
            hub.AddFilter(errorFilter);
            hub.AddFilter(rateFilter);
            hub.AddFilter(argumentFilter);
        });

        builder.Services.AddCors();
        // With credentials: SignalR's JavaScript client negotiates with them by default (withCredentials), and a
        // browser refuses the answer unless it allows them. Nothing here reads a cookie, and the origins are listed.
        // A preflight kept 10 minutes (a browser's default is 5 s): each token request needed one, through the proxy
        // to a replica of its own, so a sign-in's try met a frozen replica twice as often.
        builder.Services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<ChatOptions>>((cors, chat) =>
            cors.AddPolicy(BrowserClientsPolicy, policy => policy
                .WithOrigins(chat.Value.AllowedOrigins)
                .AllowAnyHeader()
                .WithMethods("GET", "POST")
                .AllowCredentials()
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));

        return builder;
    }

    // The sentence goes out as a problem (JSON) when the client takes that, else as plain text: an Accept header that
    // leaves JSON out must not turn a 404 into a 500.
    private static async Task AnswerInOurWords(StatusCodeContext status, bool issuesTokens)
    {
        var (request, response) = (status.HttpContext.Request, status.HttpContext.Response);
        var detail = response.StatusCode switch
        {
            StatusCodes.Status404NotFound => issuesTokens
                ? $"There is nothing at this address on the chat gateway: clients connect to {ChatHubPaths.Hub} and get a token with POST {ChatHubPaths.Token}."
                : $"There is nothing at this address on the chat gateway: clients connect to {ChatHubPaths.Hub} with a token from the sign-in service.",
            StatusCodes.Status405MethodNotAllowed when response.Headers.Allow is { Count: > 0 } allowed =>
                $"This address does not take {request.Method} requests; it takes {allowed.ToString()}.",
            _ => $"The gateway did not take this request (HTTP {response.StatusCode}).",
        };
        var problems = status.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = status.HttpContext,
                ProblemDetails = { Status = response.StatusCode, Detail = detail },
            }))
        {
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync(detail);
        }
    }

    public static WebApplication MapChatGateway(this WebApplication app)
    {
        // In every environment: a failure is a problem response with no exception details (Development's
        // exception page would show clients a stack trace).
        app.UseExceptionHandler();
        // Not for WebSockets, which browsers open without CORS (the hub's Origin check covers them): the CORS
        // middleware takes its policy provider from the request's services, a scope that would live as long.
        app.UseWhen(context => !RealtimeTelemetry.IsWebSocketUpgrade(context.Request), http => http.UseCors());
        // The hub's requests take a short path of their own to the hub: every middleware a WebSocket passes waits
        // for the connection's whole life, with what it holds (HubAuthentication). Its checks take their services
        // from here, not from the request's: a service scope made for a hub request would live as long too.
        var drain = app.Services.GetRequiredService<ReplicaDrain>();
        var chat = app.Services.GetRequiredService<IOptions<ChatOptions>>();
        var telemetry = app.Services.GetRequiredService<GatewayTelemetry>();
        app.MapWhen(HubAuthentication.IsChatHub, hub => hub
            .Use((context, next) => RefuseWhileStopping(context, next, drain))
            .Use((context, next) => RefuseForeignBrowserOrigins(context, next, chat.Value.AllowedOrigins, telemetry))
            .UseHubAuthentication()
            .Use(HubNegotiation.AnswerWithoutConnection)
            .Use(HubNegotiation.RefuseOtherTransports)
            .Use(HubNegotiation.IgnoreIdOnWebSockets)
            .Use(WebSocketCloseReasons.UseOnWebSocket)
            .Run(context => context.GetEndpoint()!.RequestDelegate!(context)));
        // An answer with a status and no body (an address with nothing at it, a method an endpoint does not take)
        // gets a sentence in our words too. After the hub's path, which answers for itself.
        var issuesTokens = app.Services.GetRequiredService<IOptions<TokenOptions>>().Value.DevelopmentTokens == true;
        app.UseStatusCodePages(status => AnswerInOurWords(status, issuesTokens));
        app.UseAuthentication();
        app.UseAuthorization();

        app.UseRateLimiter();

        app.MapTokenEndpoint(BrowserClientsPolicy);
        app.MapOpsSnapshot();
        app.MapDrain();

        // As MapHub<ChatHub> does, plus a handshake answered in our words and a timeout for clients that never send anything.
        var time = app.Services.GetRequiredService<TimeProvider>();
        var local = app.Services.GetRequiredService<LocalConnections>();
        app.MapConnections(ChatHubPaths.Hub, new HttpConnectionDispatcherOptions
            {
                // The proxy in front of the replicas is not sticky: a negotiate request and a long-polling
                // connection could land on different replicas, so only WebSockets are offered.
                Transports = HttpTransportType.WebSockets,
                // Off: SignalR's closes without a word; UseTokenExpiryClose below closes saying why.
                CloseOnAuthenticationExpiration = false,
                // SignalR's own send timeout, behind ours (UseSlowClientTimeout, which names the reason and logs it):
                // it only catches a client stuck with less than a buffer's worth pending, which holds nobody back.
                // Turning it off (the runtime's WebSocket then sends on its fast path) measured no less CPU and a
                // longer W1 tail (bench/findings.md). Read once: options do not reload.
                TransportSendTimeout = chat.Value.Limits.SlowClientTimeout * 2,
            }, connections => connections
                .UseHandshakeCheck(app.Services.GetRequiredService<ReplicaConnectionLimit>())
                .UseCredentialsReleased()
                .UseSilentConnectionTimeout(() => chat.Value.Limits.ClientTimeoutInterval, time, local)
                .UseTokenExpiryClose(local, time)
                .UseSlowClientTimeout(() => chat.Value.Limits.SlowClientTimeout, time, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SlowClientTimeout).FullName!))
                .UseHub<ChatHub>())
            // The hub's own path (MapWhen above) finds its endpoints by this metadata and authenticates them; with
            // RequireAuthorization the authorization middleware would wait out each connection's life.
            .WithMetadata(new HubMetadata(typeof(ChatHub)))
            .RequireCors(BrowserClientsPolicy);

        // A stop not asked for by /ops/drain (SIGTERM: Kubernetes, the dashboard's Stop) drains too. SignalR, which
        // registered its own stop when the hub was mapped just above, would cut every connection without a word;
        // stopping callbacks run newest first, so this one closes them properly before it.
        app.Lifetime.ApplicationStopping.Register(drain.DrainBeforeSignalRStops);
        return app;
    }

    // While draining or stopping, clients reconnect at once; one that reached this process again would hold its
    // shutdown open until the timeout. Send it elsewhere (through the proxy).
    private static Task RefuseWhileStopping(HttpContext context, Func<Task> next, ReplicaDrain drain)
    {
        if (!drain.Leaving)
        {
            return next();
        }

        return PlainTextAnswer.RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "This gateway replica is shutting down; reconnect.");
    }

    // CORS does not cover WebSockets: a page from any origin could open one with the user's cookies or a
    // stolen token. Browsers always send Origin; .NET and other non-browser clients send none.
    private static Task RefuseForeignBrowserOrigins(HttpContext context, Func<Task> next, string[] allowed, GatewayTelemetry telemetry)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !allowed.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            telemetry.ConnectionRejected("origin_not_allowed");
            // Quoted only when it is an origin: a client that is not a browser can send anything in the header.
            var named = AllowedOriginsValidator.IsOrigin(origin) && origin.Length <= 256 ? $"Origin {origin}" : "This request's Origin header";
            return PlainTextAnswer.RefuseAsync(context, StatusCodes.Status403Forbidden, $"{named} may not open the chat hub (Chat:AllowedOrigins).");
        }

        return next();
    }
}

[OptionsValidator]
internal sealed partial class ChatOptionsValidator : IValidateOptions<ChatOptions>;

/// <summary>
/// A text of the longest length must fit in a hub frame from any client, or sending it closes the connection (SignalR
/// cannot skip a frame) instead of being refused in our words. .NET's JSON escapes every non-ASCII character as
/// \uXXXX (6 bytes); the rest of a SendMessage invocation (names, ids, trace headers) takes under 1 KB.
/// </summary>
internal sealed class TextFitsInFrameValidator : IValidateOptions<ChatOptions>
{
    private const int BytesPerCharacter = 6;
    private const int InvocationBytes = 1024;

    public ValidateOptionsResult Validate(string? name, ChatOptions options)
    {
        var limits = options.Limits;
        var needed = (long)limits.MaxTextLength * BytesPerCharacter + InvocationBytes;
        return limits.MaxMessageBytes >= needed
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{ChatOptions.Section}:Limits:{nameof(ChatLimits.MaxMessageBytes)} must be at least {needed} for "
                + $"{ChatOptions.Section}:Limits:{nameof(ChatLimits.MaxTextLength)} {limits.MaxTextLength} (6 bytes a character, as .NET clients escape "
                + "non-ASCII text, and 1 KB for the rest of a send); it is " + limits.MaxMessageBytes + ".");
    }
}

/// <summary>An origin a browser could send (scheme, host, port): anything else would never match, refusing every page silently.</summary>
internal sealed class AllowedOriginsValidator : IValidateOptions<ChatOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatOptions options) =>
        options.AllowedOrigins.FirstOrDefault(origin => !IsOrigin(origin)) is { } bad
            ? ValidateOptionsResult.Fail($"{ChatOptions.Section}:{nameof(ChatOptions.AllowedOrigins)} must list origins such as https://chat.example.com (http or https, a host, a port if not the default, nothing after); '{bad}' is not one.")
            : ValidateOptionsResult.Success;

    public static bool IsOrigin(string? origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.GetLeftPart(UriPartial.Authority).Equals(origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
