using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// The SignalR JSON protocol by hand over a bare WebSocket: a client that can fall silent, vanish without a
/// close frame, or send garbage — what the official clients never do.
/// </summary>
public sealed class RawWebSocketClient : IAsyncDisposable
{
    public const char RecordSeparator = '\u001e';
    public const string Handshake = "{\"protocol\":\"json\",\"version\":1}\u001e";

    private readonly ClientWebSocket _socket = new();
    private int _invocations;

    /// <summary>Opens the WebSocket and sends <paramref name="handshake"/>; returns the client and the server's handshake answer.</summary>
    public static async Task<(RawWebSocketClient Client, string? Answer)> OpenAsync(Uri gateway, string token, string handshake, CancellationToken cancellationToken)
    {
        var client = new RawWebSocketClient();
        client._socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await client._socket.ConnectAsync(new UriBuilder(new Uri(gateway, ChatHubPaths.Hub)) { Scheme = "ws" }.Uri, cancellationToken);
        await client.SendAsync(handshake, cancellationToken);
        return (client, await client.ReceiveAsync(cancellationToken));
    }

    public static async Task<RawWebSocketClient> ConnectAsync(Uri gateway, string token, CancellationToken cancellationToken)
    {
        var (client, answer) = await OpenAsync(gateway, token, Handshake, cancellationToken);
        if (answer is null || !answer.StartsWith("{}" + RecordSeparator, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Unexpected handshake response: {answer}");
        }

        return client;
    }

    public Task SendAsync(string frame, CancellationToken cancellationToken) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>Sends <paramref name="bytes"/> as one text frame, UTF-8 or not: the client's WebSocket does not check what it sends.</summary>
    public Task SendTextFrameAsync(byte[] bytes, CancellationToken cancellationToken) =>
        _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>The status and reason of the server's WebSocket close, once it has closed.</summary>
    public (WebSocketCloseStatus? Status, string? Reason) CloseReceived => (_socket.CloseStatus, _socket.CloseStatusDescription);

    /// <summary>Sends a hub invocation without waiting for its result.</summary>
    public Task InvokeAsync(string target, object?[] arguments, CancellationToken cancellationToken) =>
        SendAsync(JsonSerializer.Serialize(new { type = 1, invocationId = $"{++_invocations}", target, arguments }) + RecordSeparator, cancellationToken);

    /// <summary>Drops the TCP connection without a WebSocket close, as a crashed client or a cut network would.</summary>
    public void Vanish() => _socket.Abort();

    /// <summary>Closes the WebSocket politely, as a well-behaved client leaving would.</summary>
    public Task CloseAsync(CancellationToken cancellationToken) => _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);

    /// <summary>Reads until the server closes the socket; false when it stays open for <paramref name="timeout"/>.</summary>
    public async Task<bool> ClosedByServerWithinAsync(TimeSpan timeout) => (await ReadUntilClosedAsync(timeout)).Closed;

    /// <summary>Everything the server sends until it closes the socket (or <paramref name="timeout"/> passes), frame by frame.</summary>
    public async Task<(bool Closed, IReadOnlyList<string> Frames)> ReadUntilClosedAsync(TimeSpan timeout)
    {
        var frames = new List<string>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await ReceiveAsync(cts.Token) is { } text)
            {
                frames.AddRange(text.Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries));
            }

            return (true, frames);
        }
        catch (OperationCanceledException)
        {
            return (false, frames);
        }
        catch (WebSocketException) when (cts.IsCancellationRequested)
        {
            // Our own timeout aborted the socket. .NET reports that now and then as an invalid state rather than a
            // cancellation (3–4 in 200 timed-out reads here): the server had not closed it.
            return (false, frames);
        }
        catch (WebSocketException)
        {
            return (true, frames);
        }
    }

    private async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var text = new StringBuilder();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await AnswerCloseAsync();
                return text.Length > 0 ? text.ToString() : null;
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
        while (!result.EndOfMessage);

        return text.ToString();
    }

    // As browsers and SignalR's clients do: the server's side of the connection ends only once the close is answered.
    private async Task AnswerCloseAsync()
    {
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or ObjectDisposedException)
        {
            // Already gone: nothing to answer.
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
