using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Fast.InProcess;

/// <summary>
/// The gateway in this test process (WebApplicationFactory's test server) on one real redis-server, and .NET
/// clients connected through the test server's sockets: the contract in a second, with no process to start.
/// </summary>
public sealed class InProcessGateway : IAsyncLifetime
{
    private readonly Action<IWebHostBuilder>? _configure;
    private RedisServerProcess _redis = null!;
    private WebApplicationFactory<ChatHub> _factory = null!;

    public InProcessGateway()
    {
    }

    /// <summary>A gateway with more settings or services than the shared one (<paramref name="configure"/> runs last; internal, as a class fixture may have one public constructor).</summary>
    internal InProcessGateway(Action<IWebHostBuilder> configure) => _configure = configure;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync(TestContext.Current.CancellationToken);
        _factory = new WebApplicationFactory<ChatHub>().WithWebHostBuilder(host =>
        {
            host.UseEnvironment("Development")
                .UseSetting("ConnectionStrings:redis", _redis.ConnectionString)
                .UseSetting("Auth:SigningKey", GatewayCluster.SigningKey)
                .UseSetting("Ops:AccessKey", GatewayCluster.OpsAccessKey)
                .UseSetting("Chat:AllowedOrigins:0", BrowserOrigin + "/") // as many write it: a browser's Origin header has no '/'
                .UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", "");
            _configure?.Invoke(host);
        });
        _ = _factory.Server; // starts it
    }

    /// <summary>The origin of a page allowed to use the gateway from a browser (Chat:AllowedOrigins).</summary>
    public const string BrowserOrigin = "https://chat.example";

    /// <summary>An HTTP client of the gateway (the token endpoint, the ops snapshot).</summary>
    public HttpClient Http() => _factory.CreateClient();

    /// <summary>The gateway's redis-server (one per fixture instance, so a test class may break it).</summary>
    public RedisServerProcess Redis => _redis;

    /// <summary>The gateway's services, to look at what it keeps.</summary>
    public IServiceProvider Services => _factory.Services;

    /// <summary>A development token for the user.</summary>
    public async Task<string> TokenAsync(string user)
    {
        using var http = Http();
        using var response = await http.PostAsJsonAsync(ChatHubPaths.Token, new TokenRequest(user));
        return (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<TokenResponse>())!.Token;
    }

    /// <summary>
    /// A .NET client, with its token in the Authorization header, or as a browser sends it: in the query string;
    /// negotiating first as most SignalR clients do, or not, as ours do.
    /// </summary>
    /// <param name="query">Added to the hub's address, e.g. "clientId=…" (the client adds a random one otherwise).</param>
    public async Task<ChatTestClient> ConnectAsync(string user, bool tokenInQuery = false, string? token = null, bool negotiate = false, string? query = null)
    {
        token ??= await TokenAsync(user);
        string[] parameters = [.. tokenInQuery ? [$"access_token={Uri.EscapeDataString(token)}"] : Array.Empty<string>(), .. query is null ? [] : new[] { query }];
        var hub = new Uri(_factory.Server.BaseAddress, parameters.Length == 0 ? ChatHubPaths.Hub : $"{ChatHubPaths.Hub}?{string.Join('&', parameters)}");
        var chat = new ChatClient(hub, () => Task.FromResult<string?>(token), configureConnection: options =>
        {
            options.SkipNegotiation = !negotiate;
            options.HttpMessageHandlerFactory = _ => _factory.Server.CreateHandler();
            options.WebSocketFactory = (context, cancellationToken) => OpenWebSocketAsync(context.Uri, tokenInQuery ? null : token, cancellationToken);
        });
        return await ChatTestClient.StartAsync(user, chat, TestContext.Current.CancellationToken);
    }

    /// <summary>A bare hub connection (not started) through the test server, its token as a bearer header.</summary>
    /// <param name="query">Added to the hub's address, e.g. "clientId=…&amp;attempt=…" (nothing is added to it).</param>
    public RawHubConnection Raw(string token, string query) =>
        RawHubConnection.Of(new HubConnectionBuilder()
            .WithUrl(new Uri(_factory.Server.BaseAddress, $"{ChatHubPaths.Hub}?{query}"), HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = true;
                options.HttpMessageHandlerFactory = _ => _factory.Server.CreateHandler();
                options.WebSocketFactory = (context, cancellationToken) => OpenWebSocketAsync(context.Uri, token, cancellationToken);
            })
            .Build());

    /// <summary>The hub's address on the test server (its sockets: <see cref="OpenWebSocketAsync"/>).</summary>
    public Uri HubUrl => new(_factory.Server.BaseAddress, ChatHubPaths.Hub);

    /// <summary>A WebSocket through the test server, with the token as a bearer header when given.</summary>
    public async ValueTask<System.Net.WebSockets.WebSocket> OpenWebSocketAsync(Uri url, string? token, CancellationToken cancellationToken)
    {
        var sockets = _factory.Server.CreateWebSocketClient();
        if (token is not null)
        {
            sockets.ConfigureRequest = request => request.Headers.Authorization = $"Bearer {token}";
        }

        return await sockets.ConnectAsync(url, cancellationToken);
    }

    /// <summary>A WebSocket opened on the hub with a user's token that sends nothing, not even the handshake.</summary>
    public async Task<System.Net.WebSockets.WebSocket> OpenSilentWebSocketAsync(string user)
    {
        return await OpenWebSocketAsync(HubUrl, await TokenAsync(user), TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
