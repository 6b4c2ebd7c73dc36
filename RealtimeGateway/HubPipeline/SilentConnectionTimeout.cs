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

    /// <summary>
    /// Passes reads through, noting when the reader last took a whole message; and counts the hub calls running.
    /// Bytes alone do not count: a client sending part of a message and then a byte every few seconds would
    /// otherwise hold its place for as long as the message size limit lets it trickle (32 KB, a byte a second: nine hours).
    /// </summary>
    internal sealed class LastReadStamp(PipeReader inner, ConnectionContext connection, Func<TimeSpan> timeout, TimeProvider time, LocalConnections local) : PipeReader
    {
        private long _lastMessageAt = time.GetTimestamp();
        private SequencePosition _lastConsumed;
        private int _callsRunning;

        public void CallStarted() => Interlocked.Increment(ref _callsRunning);

        // The clock starts again when a call ends: what the client sent meanwhile may have waited behind it unread.
        public void CallEnded()
        {
            Interlocked.Exchange(ref _lastMessageAt, time.GetTimestamp());
            Interlocked.Decrement(ref _callsRunning);
        }

        public void CloseIfSilent()
        {
            // A hub connection is told why (and its WebSocket closed properly); one still in its handshake is cut off.
            if (Volatile.Read(ref _callsRunning) == 0 && time.GetElapsedTime(Interlocked.Read(ref _lastMessageAt)) >= timeout()
                && !local.CloseSilent(connection.ConnectionId))
            {
                DisconnectReasons.Close(connection, DisconnectReasons.Timeout, LocalConnections.SilentSentence);
            }
        }

        // Reads are handed back as they are (awaiting them here would allocate for every message that arrives on a
        // quiet connection); what the reader did with them shows at AdvanceTo.
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => inner.ReadAsync(cancellationToken);

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        // The hub's reader consumes up to the end of the last whole message it parsed and examines to the end of what
        // it got: it took a message when it consumed everything it looked at, or moved on from where it stood.
        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            if (consumed.Equals(examined) || !consumed.Equals(_lastConsumed))
            {
                Interlocked.Exchange(ref _lastMessageAt, time.GetTimestamp());
            }

            _lastConsumed = consumed;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
