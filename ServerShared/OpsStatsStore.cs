using System.Text.Json;
using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

/// <summary>
/// Where each gateway and worker process leaves its last-second stats for the operations view: a JSON value
/// that expires when the process stops updating it, and an index of who updated when.
/// </summary>
public static class OpsStatsStore
{
    /// <summary>Stats older than this belong to a process that stopped.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);

    public static async Task PublishAsync<T>(IDatabase db, RedisKey index, string process, T stats, DateTimeOffset now)
    {
        await Task.WhenAll(
            db.StringSetAsync(ChatRedisKeys.ProcessStats(process), JsonSerializer.Serialize(stats, JsonSerializerOptions.Web), Freshness),
            db.SortedSetAddAsync(index, process, now.ToUnixTimeMilliseconds()),
            db.SortedSetRemoveRangeByScoreAsync(index, double.NegativeInfinity, (now - 10 * Freshness).ToUnixTimeMilliseconds()));
    }

    public static async Task<IReadOnlyList<T>> ReadAsync<T>(IDatabase db, RedisKey index, DateTimeOffset now)
    {
        var since = (now - Freshness).ToUnixTimeMilliseconds();
        var processes = await db.SortedSetRangeByScoreAsync(index, since, double.PositiveInfinity);
        if (processes.Length == 0)
        {
            return [];
        }

        var values = await db.StringGetAsync([.. processes.Select(p => ChatRedisKeys.ProcessStats((string)p!))]);
        return [.. values.Where(v => v.HasValue).Select(v => JsonSerializer.Deserialize<T>((string)v!, JsonSerializerOptions.Web)!)];
    }
}
