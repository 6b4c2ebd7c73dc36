using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

/// <summary>Which failures of a Redis call mean Redis is out of reach or not answering, for the loops that ride them out.</summary>
public static class RedisFailures
{
    /// <summary>
    /// A RedisException, a timeout, or a cancellation that is not the caller's own stop: StackExchange.Redis fails the
    /// commands still waiting when it finds its socket dead (Redis frozen for about 20 s) with a TaskCanceledException,
    /// and none of our Redis calls takes a token of its own.
    /// </summary>
    public static bool IsRedisFailure(this Exception ex, CancellationToken stopping = default) =>
        ex is RedisException or TimeoutException || IsDeadSocketCancellation(ex, stopping);

    /// <summary>Only Redis out of reach (not an error Redis answered): a connection failure, a timeout, a dead socket.</summary>
    public static bool IsRedisOutOfReach(this Exception ex, CancellationToken stopping = default) =>
        ex is RedisConnectionException or TimeoutException || IsDeadSocketCancellation(ex, stopping);

    private static bool IsDeadSocketCancellation(Exception ex, CancellationToken stopping) =>
        ex is OperationCanceledException && !stopping.IsCancellationRequested;
}
