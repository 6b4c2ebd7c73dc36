using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Closes a connection whose client has stopped taking what it is sent: its output has been full (a write waiting
/// for room) for the slow-client timeout. Deliveries to a room wait for every member's write, so one client that
/// stops reading would otherwise hold its room's messages back for everyone on this replica.
/// </summary>
/// <remarks>
/// SignalR's transport send timeout would close such a client too, but as if it had left (no reason, no log line);
/// it stays on, set longer, as a backstop. A write costs nothing extra here unless it has to wait.
/// </remarks>
internal static partial class SlowClientTimeout
{
    public static IConnectionBuilder UseSlowClientTimeout(this IConnectionBuilder connections, Func<TimeSpan> timeout, TimeProvider time, ILogger logger) =>
        connections.Use(next => connection =>
        {
            var output = new StalledWriteStamp(connection.Transport.Output, connection, timeout, time, logger);
            connection.Transport = new DuplexPipe(connection.Transport.Input, output);
            connection.Features.Set<IEndsWithOurClose>(output); // for LocalConnections, which sees the features through the hub's context
            // A static callback with the stamp as its state: no closure or delegate is kept per connection.
            connection.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(static stamp => ((StalledWriteStamp)stamp).CloseIfStalled(), output);
            return next(connection);
        });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed connection {ConnectionId}: its output stayed full for {Seconds} s, its client not taking what it was sent (the slow-client timeout, Chat:Limits:SlowClientTimeout)")]
    private static partial void LogDropped(ILogger logger, string connectionId, double seconds);

    /// <summary>
    /// Passes writes through, noting since when one has been waiting for the client to take data; and, once the
    /// gateway's own close message is out, drops what follows it (<see cref="IEndsWithOurClose"/>).
    /// </summary>
    private sealed class StalledWriteStamp(PipeWriter inner, ConnectionContext connection, Func<TimeSpan> timeout, TimeProvider time, ILogger logger)
        : PipeWriter, IEndsWithOurClose
    {
        private long _stalledSince; // a timestamp; 0 while no write waits
        private volatile bool _ended;

        public void OurCloseWritten() => _ended = true;

        public void CloseIfStalled()
        {
            if (Interlocked.Read(ref _stalledSince) is var since and not 0 && time.GetElapsedTime(since) >= timeout()
                && DisconnectReasons.Close(connection, DisconnectReasons.SlowClient, "The client did not take what it was sent within the slow-client timeout."))
            {
                LogDropped(logger, connection.ConnectionId, timeout().TotalSeconds);
            }
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
            _ended ? Ended : Watch(inner.FlushAsync(cancellationToken));

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
            _ended ? Ended : Watch(inner.WriteAsync(source, cancellationToken));

        public override void Advance(int bytes)
        {
            if (!_ended)
            {
                inner.Advance(bytes);
            }
        }

        // After our close, what is written goes to a buffer of its own and nowhere (only SignalR's close comes then).
        public override Memory<byte> GetMemory(int sizeHint = 0) => _ended ? new byte[Math.Max(sizeHint, 512)] : inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        private static ValueTask<FlushResult> Ended => new(new FlushResult(isCanceled: false, isCompleted: true));

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        // Writes are serialised by SignalR (one at a time per connection), so one stamp is enough.
        private ValueTask<FlushResult> Watch(ValueTask<FlushResult> flush) => flush.IsCompleted ? flush : WaitAsync(flush);

        private async ValueTask<FlushResult> WaitAsync(ValueTask<FlushResult> flush)
        {
            Interlocked.Exchange(ref _stalledSince, Math.Max(1, time.GetTimestamp()));
            try
            {
                return await flush;
            }
            finally
            {
                Interlocked.Exchange(ref _stalledSince, 0);
            }
        }
    }
}

/// <summary>
/// A connection's output, told when the gateway's own close message has been written (a replaced connection, an
/// expired token, a silent client): SignalR writes its own close after it, which tells the client it may reconnect,
/// and a client that acts on the last close it reads would do the opposite of what ours says. What follows is dropped.
/// </summary>
internal interface IEndsWithOurClose
{
    void OurCloseWritten();
}
