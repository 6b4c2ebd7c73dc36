using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

/// <summary>Which failures of a Redis call mean Redis is out of reach or not answering, for the loops that ride them out.</summary>
public static class RedisFailures
{
    /// <summary>A RedisException, a timeout, or the client library failing a command on a connection it gave up (below).</summary>
    public static bool IsRedisFailure(this Exception ex, CancellationToken stopping = default) =>
        ex is RedisException or TimeoutException || IsDeadConnectionFailure(ex, stopping);

    /// <summary>Only Redis out of reach (not an error Redis answered): a connection failure, a timeout, a dead connection.</summary>
    public static bool IsRedisOutOfReach(this Exception ex, CancellationToken stopping = default) =>
        ex is RedisConnectionException or TimeoutException || IsDeadConnectionFailure(ex, stopping);

    /// <summary>
    /// Redis out of reach, or saying it cannot serve right now (loading, busy, a read-only replica, out of memory): an
    /// outage to ride out. Any other error Redis answers (a script's, a wrong type) is a fault to report and count.
    /// </summary>
    public static bool IsRedisUnavailable(this Exception ex, CancellationToken stopping = default) =>
        ex.IsRedisOutOfReach(stopping)
        || ex is RedisServerException server && TransientServerErrors.Any(prefix => server.Message.StartsWith(prefix, StringComparison.Ordinal));

    private static readonly string[] TransientServerErrors = ["LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "OOM"];

    // When StackExchange.Redis takes its socket for dead (Redis frozen for about 20 s) it fails the commands still
    // waiting with a TaskCanceledException that no token is behind (none of our own cancellations is without one),
    // or, racing its own reader, an InvalidOperationException thrown from inside it ("Reading is not allowed after
    // reader was completed"): not RedisExceptions. Never the caller's own stop.
    private static bool IsDeadConnectionFailure(Exception ex, CancellationToken stopping) =>
        !stopping.IsCancellationRequested
        && (ex is TaskCanceledException { CancellationToken.CanBeCanceled: false }
            || ex is InvalidOperationException && ex.StackTrace?.Contains(" StackExchange.Redis.", StringComparison.Ordinal) == true);
}
