using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// The runtime's WebSocket closes a connection by itself when a client's frame breaks the WebSocket protocol
/// (status 1002: unmasked, a reserved bit or opcode, a bad control frame) or a text frame is not UTF-8 (1007),
/// before SignalR or our code sees the frame, and its close frame carries no reason. This puts one in, in our words:
/// the hub's WebSocket is opened over a stream that replaces exactly those two reasonless close frames on their way
/// out. Every other write passes through untouched.
/// </summary>
internal static class WebSocketCloseReasons
{
    private const byte CloseFrame = 0x88; // FIN and the close opcode; a server's frames are not masked
    private const ushort ProtocolError = 1002;
    private const ushort InvalidPayloadData = 1007;

    internal const string ProtocolErrorReason =
        "A frame broke the WebSocket protocol (RFC 6455): unmasked, a reserved bit or opcode, or a bad control frame.";

    internal const string InvalidPayloadReason =
        "A frame's text was not valid UTF-8 (text frames and close reasons must be); the hub protocol is UTF-8 JSON.";

    private static readonly TimeSpan CloseFrameLeeway = TimeSpan.FromMilliseconds(100);
    private static readonly byte[] ProtocolErrorClose = Close(ProtocolError, ProtocolErrorReason);
    private static readonly byte[] InvalidPayloadClose = Close(InvalidPayloadData, InvalidPayloadReason);

    /// <summary>Opens the request's WebSocket, if it asks for one, over the stream that gives reasons.</summary>
    public static Task UseOnWebSocket(HttpContext context, RequestDelegate next)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new Upgrade(upgrade, context.Features));
        }
        else if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            context.Features.Set<IHttpExtendedConnectFeature>(new ExtendedConnect(connect, context.Features));
        }

        return next(context);
    }

    /// <summary>The close frame to send instead of <paramref name="frame"/>, or null to send it as it is.</summary>
    internal static byte[]? Replacement(ReadOnlySpan<byte> frame) =>
        frame is [CloseFrame, 2, var high, var low] ? ((high << 8) | low) switch
        {
            ProtocolError => ProtocolErrorClose,
            InvalidPayloadData => InvalidPayloadClose,
            _ => null,
        } : null;

    private static byte[] Close(ushort status, string reason)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        // A control frame's payload is at most 125 bytes: the status's two and the reason.
        if (text.Length > 123)
        {
            throw new InvalidOperationException($"A close reason is at most 123 bytes: '{reason}' has {text.Length}.");
        }

        return [CloseFrame, (byte)(2 + text.Length), (byte)(status >> 8), (byte)status, .. text];
    }

    // Each puts the server's own feature back once the WebSocket has its stream: the request's features live as long as
    // the connection, and the wrapper need not.
    private sealed class Upgrade(IHttpUpgradeFeature inner, IFeatureCollection features) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync()
        {
            features.Set(inner);
            return new ReasonsStream(await inner.UpgradeAsync());
        }
    }

    private sealed class ExtendedConnect(IHttpExtendedConnectFeature inner, IFeatureCollection features) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => inner.IsExtendedConnect;

        public string? Protocol => inner.Protocol;

        public async ValueTask<Stream> AcceptAsync()
        {
            features.Set(inner);
            return new ReasonsStream(await inner.AcceptAsync());
        }
    }

    // The WebSocket writes each frame in one call, so a reasonless close arrives whole: 4 bytes.
    private sealed class ReasonsStream(Stream inner) : Stream
    {
        // Set once our close has gone: nothing may follow a close frame (RFC 6455 5.5.1), but a send that was already
        // waiting for the runtime's send lock when it failed the connection is written after it (a handshake's answer was).
        private bool _closeSent;

        public override bool CanRead => inner.CanRead;
        public override bool CanWrite => inner.CanWrite;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            _closeSent ? default
            : Replacement(buffer.Span) is { } close ? WriteCloseAsync(close, cancellationToken)
            : inner.WriteAsync(buffer, cancellationToken);

        // The runtime fails the connection as soon as this write returns, and the teardown that follows can cut off
        // output Kestrel has not sent yet: 1 close frame in 36 was lost in the tests. Held back a moment, it leaves.
        private async ValueTask WriteCloseAsync(byte[] close, CancellationToken cancellationToken)
        {
            _closeSent = true;
            await inner.WriteAsync(close, cancellationToken);
            await inner.FlushAsync(cancellationToken);
            await Task.Delay(CloseFrameLeeway, CancellationToken.None);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        // The runtime's WebSocket writes asynchronously; this only keeps the stream whole for any other caller.
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_closeSent)
            {
                return;
            }

            var close = Replacement(buffer);
            _closeSent = close is not null;
            inner.Write(close is null ? buffer : close);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
