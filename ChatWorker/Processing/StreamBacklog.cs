using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.ChatWorker.Processing;

/// <summary>How far behind the consumer group is: what the lag and pending metrics and the health check report.</summary>
public sealed class StreamBacklog(TimeProvider time)
{
    // Until the first reading, counted from the start: a worker that has just started has not failed to read yet (its
    // first reading may well fail, racing the consumer that creates the stream and its group).
    private volatile Reading _current = new(TimeSpan.Zero, 0, time.GetUtcNow(), null);

    public TimeSpan Lag => _current.Lag;

    public long Pending => _current.Pending;

    /// <summary>When the backlog was last read successfully (before the first reading: when the worker started), and the error since, if any.</summary>
    public (DateTimeOffset At, string? Error) LastReading => (_current.At, _current.Error);

    public async Task RefreshAsync(IDatabase db)
    {
        try
        {
            var pending = await db.StreamPendingAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup);
            var groups = await db.StreamGroupInfoAsync(ChatRedisKeys.MessageStream);
            var lastDelivered = groups.FirstOrDefault(g => g.Name == ChatRedisKeys.WorkerGroup).LastDeliveredId;
            var undelivered = lastDelivered is null
                ? []
                : await db.StreamRangeAsync(ChatRedisKeys.MessageStream, $"({lastDelivered}", "+", 1);

            // The oldest of: the oldest pending entry, the oldest entry not read yet.
            string?[] candidates = [pending.PendingMessageCount > 0 ? (string?)pending.LowestPendingMessageId : null, undelivered.Length > 0 ? (string?)undelivered[0].Id : null];
            var oldest = candidates.OfType<string>()
                .Select(id => long.Parse(id.AsSpan(0, id.IndexOf('-'))))
                .DefaultIfEmpty(long.MaxValue)
                .Min();
            var now = time.GetUtcNow();
            var lag = oldest == long.MaxValue ? TimeSpan.Zero : now - DateTimeOffset.FromUnixTimeMilliseconds(oldest);
            _current = new Reading(lag < TimeSpan.Zero ? TimeSpan.Zero : lag, pending.PendingMessageCount, now, null);
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            _current = _current with { Error = ex.GetType().Name };
        }
    }

    private sealed record Reading(TimeSpan Lag, long Pending, DateTimeOffset At, string? Error);
}
