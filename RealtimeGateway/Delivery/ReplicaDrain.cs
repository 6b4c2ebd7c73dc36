using RealtimeDemo.ServerShared;
using StackExchange.Redis;
using IServer = Microsoft.AspNetCore.Hosting.Server.IServer;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// Whether this replica is leaving (asked to drain, or stopping), and the drain itself: every local client gets a
/// close message that says why and allows reconnecting, and a proper WebSocket close, so it reconnects through the proxy to another
/// replica and fills its gaps there, and its disconnect takes it out of presence at once. SignalR's own shutdown
/// would cut the same connections without a word. The replica stops listening first: a client's immediate reconnect
/// that the proxy sends here is then refused, and the proxy tries another replica (an answer such as 503 it would
/// pass on, and the client would wait seconds before its next attempt).
/// </summary>
public sealed partial class ReplicaDrain(
    LocalConnections connections, IServer server, IConnectionMultiplexer redis, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<ReplicaDrain> logger)
    : IDrainStep
{
    private static readonly TimeSpan UnbindTime = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the drain waits for its clients' disconnects (presence updates) before the host stops anyway.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(3);

    private volatile bool _draining;

    /// <summary>New connections are refused from now on (they would hold the stop open).</summary>
    public bool Leaving => _draining || lifetime.ApplicationStopping.IsCancellationRequested;

    /// <summary>
    /// Fails at once a cleanup in Redis that a leaving replica would otherwise wait for while Redis is out of reach:
    /// each such command waits for its timeout (5 s), the drain waits for the disconnects, and the stop for both, so a
    /// replica whose Redis was gone took 12 s and more to stop. What it leaves in the registry the other replicas'
    /// sweep removes once it stops beating. The caller's failure path logs and counts it, as any unreachable Redis.
    /// </summary>
    public void ThrowIfLeavingWithoutRedis()
    {
        if (Leaving && !redis.IsConnected)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is out of reach while this replica leaves.");
        }
    }

    public async Task BeforeStopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        // Kestrel unbinds its listeners first, then waits for the open connections, which the closes below end; what
        // is still open after twice the patience it aborts. The host's own stop later awaits this same shutdown.
        var bound = new CancellationTokenSource(Patience * 2, time);
        var closed = server.StopAsync(bound.Token).ContinueWith(stop =>
        {
            bound.Dispose();
            if (stop.Exception is { } error)
            {
                LogStopListeningFailed(error.InnerException!.GetType().Name);
            }
        }, TaskScheduler.Default);
        await Task.Delay(UnbindTime, time, cancellationToken);
        var clients = connections.All;
        foreach (var client in clients)
        {
            connections.CloseLeaving(client.ConnectionId);
        }

        // A client's disconnect (which takes it out of `connections`) runs before SignalR's transport has sent it the
        // close message, and SignalR's own stop, right after this, cuts whatever a transport has not sent yet: so
        // wait for Kestrel's stop as well, which ends once every connection has closed.
        var deadline = time.GetUtcNow() + Patience;
        while ((connections.Count > 0 || !closed.IsCompleted) && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        }

        LogDrained(clients.Count, connections.Count);
    }

    /// <summary>
    /// The drain from inside the host's stopping callbacks, which run one after another on the stopping thread: it
    /// waits there (at most <see cref="Patience"/>) so that SignalR's own callback, next, finds nothing left to cut.
    /// </summary>
    public void DrainBeforeSignalRStops()
    {
        if (!_draining)
        {
            BeforeStopAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping to listen while draining failed ({Error}); the host's stop tries again")]
    private partial void LogStopListeningFailed(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained: told {Clients} clients to reconnect elsewhere; {Left} still open go with the stop")]
    private partial void LogDrained(int clients, int left);
}
