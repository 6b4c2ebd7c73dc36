using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.RealtimeGateway.Delivery;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Closes a connection that has sent nothing for the client timeout. SignalR arms its own client timeout only
/// after a client's first ping (older clients never ping), so a client that completes the handshake and then
/// stays silent would otherwise hold its place, and count against the connection limits, for ever. As SignalR's own,
/// the clock stops while a hub call of the connection runs (<see cref="CallsKeepAwake"/>): calls wait for one another
/// (one at a time per connection), and with Redis unreachable each takes seconds, so a page refreshing a list every
/// two seconds was closed as silent a minute into a Redis outage while its pings waited unread behind its calls.
/// </summary>
internal static class SilentConnectionTimeout
{
    public static IConnectionBuilder UseSilentConnectionTimeout(this IConnectionBuilder connections, Func<TimeSpan> timeout, TimeProvider time, LocalConnections local) =>
        connections.Use(next => connection =>
        {
            var input = new LastReadStamp(connection.Transport.Input, connection, timeout, time, local);
            connection.Transport = new DuplexPipe(input, connection.Transport.Output);
            connection.Features.Set(input); // for CallsKeepAwake, which sees the connection's features through the hub's context
            // A static callback with the stamp as its state: no closure or delegate is kept per connection.
            connection.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(static stamp => ((LastReadStamp)stamp).CloseIfSilent(), input);
            return next(connection);
        });

    /// <summary>Marks each hub call of a connection as running, outermost of the hub's filters.</summary>
    public sealed class CallsKeepAwake : IHubFilter
    {
        public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
        {
            var stamp = invocationContext.Context.Features.Get<LastReadStamp>();
            stamp?.CallStarted();
            try
            {
                return await next(invocationContext);
            }
            finally
            {
                stamp?.CallEnded();
            }
        }
    }

    /// <summary>Passes reads through, noting when data last arrived; and counts the hub calls running.</summary>
    internal sealed class LastReadStamp(PipeReader inner, ConnectionContext connection, Func<TimeSpan> timeout, TimeProvider time, LocalConnections local) : PipeReader
    {
        private long _lastDataAt = time.GetTimestamp();
        private bool _readPending;
        private int _callsRunning;

        public void CallStarted() => Interlocked.Increment(ref _callsRunning);

        // The clock starts again when a call ends: what the client sent meanwhile may have waited behind it unread.
        public void CallEnded()
        {
            Interlocked.Exchange(ref _lastDataAt, time.GetTimestamp());
            Interlocked.Decrement(ref _callsRunning);
        }

        public void CloseIfSilent()
        {
            // A hub connection is told why (and its WebSocket closed properly); one still in its handshake is cut off.
            if (Volatile.Read(ref _callsRunning) == 0 && time.GetElapsedTime(Interlocked.Read(ref _lastDataAt)) >= timeout()
                && !local.CloseSilent(connection.ConnectionId))
            {
                DisconnectReasons.Close(connection, DisconnectReasons.Timeout, LocalConnections.SilentSentence);
            }
        }

        // A read that has to wait is handed back as it is, and noted when the reader advances past what it got:
        // awaiting it here would allocate for every message that arrives on a quiet connection. (A read that ends
        // without data, when the connection is closing or a read is cancelled, is then noted too, which only
        // delays a timeout that no longer matters.)
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var read = inner.ReadAsync(cancellationToken);
            if (read.IsCompletedSuccessfully)
            {
                return new ValueTask<ReadResult>(Stamp(read.Result));
            }

            _readPending = true;
            return read;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
            {
                return false;
            }

            Stamp(result);
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed)
        {
            StampPendingRead();
            inner.AdvanceTo(consumed);
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            StampPendingRead();
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        private void StampPendingRead()
        {
            if (_readPending)
            {
                _readPending = false;
                Interlocked.Exchange(ref _lastDataAt, time.GetTimestamp());
            }
        }

        private ReadResult Stamp(ReadResult result)
        {
            if (!result.Buffer.IsEmpty)
            {
                Interlocked.Exchange(ref _lastDataAt, time.GetTimestamp());
            }

            return result;
        }
    }
}
