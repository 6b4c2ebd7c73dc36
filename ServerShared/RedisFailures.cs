using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

/// <summary>Which failures of a Redis call mean Redis is out of reach or not answering, for the loops that ride them out.</summary>
public static class RedisFailures
{
    /// <summary>
    /// A RedisException, a timeout, or the cancellation StackExchange.Redis fails the commands still waiting with when
    /// it finds its socket dead (Redis frozen for about 20 s): a TaskCanceledException with no token behind it, which
    /// none of our own cancellations is (and never the caller's own stop).
    /// </summary>
    public static bool IsRedisFailure(this Exception ex, CancellationToken stopping = default) =>
        ex is RedisException or TimeoutException || IsDeadSocketCancellation(ex, stopping);

    /// <summary>Only Redis out of reach (not an error Redis answered): a connection failure, a timeout, a dead socket.</summary>
    public static bool IsRedisOutOfReach(this Exception ex, CancellationToken stopping = default) =>
        ex is RedisConnectionException or TimeoutException || IsDeadSocketCancellation(ex, stopping);

    /// <summary>
    /// Redis out of reach, or saying it cannot serve right now (loading, busy, a read-only replica, out of memory): an
    /// outage to ride out. Any other error Redis answers (a script's, a wrong type) is a fault to report and count.
    /// </summary>
    public static bool IsRedisUnavailable(this Exception ex, CancellationToken stopping = default) =>
        ex.IsRedisOutOfReach(stopping)
        || ex is RedisServerException server && TransientServerErrors.Any(prefix => server.Message.StartsWith(prefix, StringComparison.Ordinal));

    private static readonly string[] TransientServerErrors = ["LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "OOM"];

    private static bool IsDeadSocketCancellation(Exception ex, CancellationToken stopping) =>
        ex is TaskCanceledException { CancellationToken.CanBeCanceled: false } && !stopping.IsCancellationRequested;
}
