using System.Net.WebSockets;
using System.Text;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// The SignalR JSON protocol by hand over a bare WebSocket: a client that can fall silent, vanish without a
/// close frame, or send garbage — what the official clients never do.
/// </summary>
public sealed class RawWebSocketClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private readonly ClientWebSocket _socket = new();

    public static async Task<RawWebSocketClient> ConnectAsync(Uri gateway, string token, CancellationToken cancellationToken)
    {
        var client = new RawWebSocketClient();
        client._socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await client._socket.ConnectAsync(new UriBuilder(new Uri(gateway, ChatHubPaths.Hub)) { Scheme = "ws" }.Uri, cancellationToken);
        await client.SendAsync("{\"protocol\":\"json\",\"version\":1}" + RecordSeparator, cancellationToken);
        var handshake = await client.ReceiveAsync(cancellationToken);
        if (handshake is null || !handshake.StartsWith("{}" + RecordSeparator, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Unexpected handshake response: {handshake}");
        }

        return client;
    }

    public Task SendAsync(string frame, CancellationToken cancellationToken) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>Drops the TCP connection without a WebSocket close, as a crashed client or a cut network would.</summary>
    public void Vanish() => _socket.Abort();

    /// <summary>Reads until the server closes the socket; false when it stays open for <paramref name="timeout"/>.</summary>
    public async Task<bool> ClosedByServerWithinAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await ReceiveAsync(cts.Token) is not null)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (WebSocketException)
        {
            return true;
        }
    }

    private async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var result = await _socket.ReceiveAsync(buffer, cancellationToken);
        return result.MessageType == WebSocketMessageType.Close ? null : Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
