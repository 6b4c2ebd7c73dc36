using System.Diagnostics.Metrics;
using StackExchange.Redis;

namespace RealtimeDemo.ServerShared;

/// <summary>
/// Notices when Redis has lost its data — a flush, a restart without persistence, a failover to an empty replica:
/// the generation marker written once (and never expired) is then gone, and written anew. Each server process
/// checks it on its own schedule and counts every loss it finds (chat.storage.data_losses).
/// </summary>
public sealed class StorageGeneration
{
    public const string MeterName = "RealtimeDemo.Storage";

    private static readonly LuaScript MarkerScript = LuaScript.Prepare("""
        local generation = redis.call('GET', @marker)
        if generation then return generation end
        local t = redis.call('TIME')
        generation = t[1] .. '.' .. t[2] .. '.' .. @nonce
        redis.call('SET', @marker, generation)
        return generation
        """);

    private long _losses;
    private string? _seen;

    // Observed, not added to, so that a process that found no loss shows 0: a counter never added to is not exported,
    // and a person looking for it in the dashboard would find nothing at all.
    public StorageGeneration(IMeterFactory meters) =>
        meters.Create(MeterName).CreateObservableCounter("chat.storage.data_losses", () => Interlocked.Read(ref _losses), "{loss}", "Times this process found that Redis had lost its data.");

    /// <summary>True once per loss: the generation this process saw at its last check is gone.</summary>
    public async Task<bool> LostSinceLastCheckAsync(IDatabase db)
    {
        var current = (string?)await db.ScriptEvaluateAsync(MarkerScript, new { marker = ChatRedisKeys.StorageGeneration, nonce = Guid.NewGuid().ToString("N")[..8] });
        var lost = Interlocked.Exchange(ref _seen, current) is { } seen && seen != current;
        if (lost)
        {
            Interlocked.Increment(ref _losses);
        }

        return lost;
    }
}
