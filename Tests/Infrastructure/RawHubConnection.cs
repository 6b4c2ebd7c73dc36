using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>A bare hub connection that does not reconnect, for sending what a well-behaved client would not.</summary>
public sealed class RawHubConnection : IAsyncDisposable
{
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RawHubConnection(HubConnection connection)
    {
        Connection = connection;
        connection.Closed += error =>
        {
            _closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    public HubConnection Connection { get; }

    /// <summary>Why the server closed the connection (null for a clean close), or a timeout.</summary>
    public Task<Exception?> Closed => _closed.Task.WaitAsync(ChatTestClient.Delivery);

    /// <summary>A connection built elsewhere (through an in-process gateway's test server, say).</summary>
    public static RawHubConnection Of(HubConnection connection) => new(connection);

    /// <param name="query">Added to the hub's address, e.g. "clientId=…".</param>
    public static RawHubConnection Create(Uri gateway, string? token, string? query = null) =>
        new(new HubConnectionBuilder()
            .WithUrl(new Uri(gateway, query is null ? ChatHubPaths.Hub : $"{ChatHubPaths.Hub}?{query}"), HttpTransportType.WebSockets, options =>
            {
                options.SkipNegotiation = true;
                options.AccessTokenProvider = () => Task.FromResult(token);
            })
            .WithKeepAliveInterval(TimeSpan.FromSeconds(1))
            .Build());

    /// <summary>
    /// Connects and, when <paramref name="confirm"/>, waits for one round trip: the handshake completes before
    /// the server has run OnConnected (where limits are checked), its first reply comes after.
    /// </summary>
    public static async Task<RawHubConnection> ConnectAsync(Uri gateway, string user, CancellationToken cancellationToken, bool confirm = true, string? query = null)
    {
        var connection = Create(gateway, await ChatTestClient.GetTokenAsync(gateway, user, cancellationToken), query);
        await connection.Connection.StartAsync(cancellationToken);
        if (confirm)
        {
            await connection.Connection.InvokeAsync<ConnectionDetails>(ChatHubMethods.GetConnectionInfo, cancellationToken);
        }

        return connection;
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
