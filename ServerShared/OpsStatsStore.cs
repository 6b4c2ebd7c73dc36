using System.Text.Json;
using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

/// <summary>
/// Where each gateway and worker process leaves its last-second stats for the operations view: a JSON value
/// and an index of who updated when. A process that stops updating them without a word (killed, frozen, cut off
/// from Redis) is read as silent, with its last numbers, until <see cref="RememberSilent"/> has passed; one that
/// stops cleanly takes its entry away.
/// </summary>
public static class OpsStatsStore
{
    /// <summary>Stats older than this belong to a process that stopped reporting.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);

    /// <summary>How long the view shows a process that went silent; then its entry expires.</summary>
    public static readonly TimeSpan RememberSilent = 10 * Freshness;

    /// <summary>How long a stopping process waits for Redis to take its entry away: a stop must stay quick.</summary>
    public static readonly TimeSpan ForgetPatience = TimeSpan.FromSeconds(1);

    public static async Task PublishAsync<T>(IDatabase db, RedisKey index, string process, T stats, DateTimeOffset now)
    {
        await Task.WhenAll(
            db.StringSetAsync(ChatRedisKeys.ProcessStats(process), JsonSerializer.Serialize(stats, JsonSerializerOptions.Web), RememberSilent),
            db.SortedSetAddAsync(index, process, now.ToUnixTimeMilliseconds()),
            db.SortedSetRemoveRangeByScoreAsync(index, double.NegativeInfinity, (now - RememberSilent).ToUnixTimeMilliseconds()));
    }

    /// <summary>A process stopping cleanly: the view drops it at once instead of showing it as silent.</summary>
    public static async Task ForgetAsync(IDatabase db, RedisKey index, string process) =>
        await Task.WhenAll(db.SortedSetRemoveAsync(index, process), db.KeyDeleteAsync(ChatRedisKeys.ProcessStats(process)));

    /// <summary>The processes that reported within <see cref="Freshness"/>, and the last stats of those silent since.</summary>
    public static async Task<(IReadOnlyList<T> Reporting, IReadOnlyList<T> Silent)> ReadAsync<T>(IDatabase db, RedisKey index, DateTimeOffset now)
    {
        var entries = await db.SortedSetRangeByScoreWithScoresAsync(index, (now - RememberSilent).ToUnixTimeMilliseconds(), double.PositiveInfinity);
        if (entries.Length == 0)
        {
            return ([], []);
        }

        var fresh = (now - Freshness).ToUnixTimeMilliseconds();
        var values = await db.StringGetAsync([.. entries.Select(e => ChatRedisKeys.ProcessStats((string)e.Element!))]);
        var (reporting, silent) = (new List<T>(), new List<T>());
        for (var i = 0; i < entries.Length; i++)
        {
            if (values[i].HasValue)
            {
                (entries[i].Score >= fresh ? reporting : silent).Add(JsonSerializer.Deserialize<T>((string)values[i]!, JsonSerializerOptions.Web)!);
            }
        }

        return (reporting, silent);
    }
}
