using System.Globalization;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// Room messages in Redis. A message is accepted by one script (the sender's replica has checked that its
/// connection is in the room) that numbers it within the room's epoch, appends it to the worker's stream and to
/// the room's history under the same id (with the sender's trace context, field "tp"), remembers its client
/// message id in the room's window, renews the room's retention, and publishes it on the room's delivery channel:
/// the ack means "durably stored", a resend changes nothing, and live delivery costs no second round trip.
/// Nothing here grows with traffic: per room, the history, the counter and the id window are capped, and the
/// room expires when unused (see <see cref="HistoryOptions"/>).
/// </summary>
public sealed class MessageStore
{
    private readonly IConnectionMultiplexer redis;
    private readonly IOptions<ChatOptions> options;
    private readonly TimeProvider time;
    private readonly GroupCommit<AppendRequest, AppendOutcome>? _appends;

    public MessageStore(IConnectionMultiplexer redis, IOptions<ChatOptions> options, TimeProvider time)
    {
        (this.redis, this.options, this.time) = (redis, options, time);
        var maxBatch = options.Value.History.MaxAppendBatch;
        _appends = maxBatch > 1 ? new GroupCommit<AppendRequest, AppendOutcome>(AppendBatchAsync, maxBatch) : null;
    }

    // A room whose counter is gone (new, expired, or lost by Redis) starts a new epoch at Redis's clock. Reads the
    // locals counter and retentionMs; sets epoch.
    private const string EnsureEpoch = """
        local epoch = redis.call('HGET', counter, 'epoch')
        if not epoch then
          local t = redis.call('TIME')
          epoch = string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000))
          redis.call('HSET', counter, 'epoch', epoch, 'n', 0)
          redis.call('PEXPIRE', counter, retentionMs)
        end
        """;

    // A room's keys are renewed to RoomRetention plus ChatRedisKeys.RetentionRenewalSlackMs, and only once their time
    // to live has fallen below RoomRetention: a PEXPIRE is a write Redis appends to its AOF (renewing all four keys with
    // every message was a quarter of a message's bytes there, and every auto-aof-rewrite-min-size of them costs a
    // rewrite), a PTTL is a read that costs nothing there. A room is then forgotten between RoomRetention and a minute
    // more after its last message.
    //
    // A batch of appends (group commit, see AppendAsync): per message five keys (counter, dedupe, dedupe order,
    // history, members) after the stream, and six values (room, user, client message id, text, trace context, channel)
    // after the four settings. Each message is numbered, stored, remembered and published in turn, as it would be
    // alone; a resend within the batch finds its original's entry and is a duplicate.
    private const string AppendBatchScript = $$"""
        local stream = KEYS[1]
        local maxStream, maxHistory, window, retentionMs = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
        local retention = tonumber(retentionMs)
        local results = {}
        for i = 0, (#KEYS - 1) / 5 - 1 do
          local counter, dedupe, dedupeOrder, history, members = KEYS[2 + i * 5], KEYS[3 + i * 5], KEYS[4 + i * 5], KEYS[5 + i * 5], KEYS[6 + i * 5]
          local a = 5 + i * 6
          local room, user, clientMessageId, text, traceParent, channel = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
          {{EnsureEpoch}}
          local memberCount = redis.call('HLEN', members)
          local field = user .. '\n' .. clientMessageId
          local previous = redis.call('HGET', dedupe, field)
          if previous then
            results[#results + 1] = {'duplicate', previous, memberCount, 0}
          else
            local seq = redis.call('HINCRBY', counter, 'n', 1)
            local id
            if seq == 1 then
              -- An epoch's first message. The room's messages before it (lost with Redis's data) had ids up to the
              -- millisecond the epoch started, and a stream Redis starts again numbers that millisecond from 0: the id
              -- of one of them. Ids past that millisecond cannot repeat theirs (unless the epoch before began in
              -- that same millisecond too, and then so does the epoch number: a room begun, lost and begun again
              -- within one millisecond is beyond what Redis's clock tells apart).
              local t = redis.call('TIME')
              if t[1] * 1000 + math.floor(t[2] / 1000) <= tonumber(epoch) then
                id = redis.pcall('XADD', stream, 'MAXLEN', '~', maxStream, string.format('%.0f-*', tonumber(epoch) + 1),
                  'room', room, 'user', user, 'text', text, 'cmid', clientMessageId, 'seq', seq, 'ep', epoch, 'tp', traceParent)
                if type(id) ~= 'string' then id = nil end -- the stream is past it already (a clock that went back)
              end
            end
            id = id or redis.call('XADD', stream, 'MAXLEN', '~', maxStream, '*',
              'room', room, 'user', user, 'text', text, 'cmid', clientMessageId, 'seq', seq, 'ep', epoch, 'tp', traceParent)
            redis.call('XADD', history, 'MAXLEN', '~', maxHistory, id,
              'user', user, 'text', text, 'cmid', clientMessageId, 'seq', seq, 'ep', epoch, 'tp', traceParent)
            local ack = id .. ' ' .. seq .. ' ' .. epoch
            redis.call('HSET', dedupe, field, ack)
            if redis.call('RPUSH', dedupeOrder, field) > window then
              redis.call('HDEL', dedupe, redis.call('LPOP', dedupeOrder))
            end
            for _, key in ipairs({counter, history, dedupe, dedupeOrder}) do
              if redis.call('PTTL', key) < retention then redis.call('PEXPIRE', key, retention + {{ChatRedisKeys.RetentionRenewalSlackMs}}) end
            end
            -- Last, and allowed to fail (an ACL, say) without undoing the store: members then fill the gap from the history.
            local live = {id = id, room = room, user = user, text = text, clientMessageId = clientMessageId, sequence = seq, epoch = tonumber(epoch)}
            if traceParent ~= '' then live.traceParent = traceParent end
            local published = redis.pcall('PUBLISH', channel, cjson.encode(live))
            results[#results + 1] = {'stored', ack, memberCount, type(published) == 'number' and 1 or 0}
          end
        end
        return results
        """;

    // One script, so the epoch, the sequence and the last id belong to the same moment. A joiner gives a quiet room
    // (no message yet) cut to its grace by a last leave the room's retention back: it has a member again.
    private static readonly LuaScript PositionScript = LuaScript.Prepare("local counter, retentionMs = @counter, @retentionMs\n" + EnsureEpoch + "\n" + $$"""
        if redis.call('HGET', counter, 'n') == '0' and redis.call('PTTL', counter) <= {{ChatRedisKeys.QuietRoomGraceMs}} then
          redis.call('PEXPIRE', counter, retentionMs)
        end
        local last = redis.call('XREVRANGE', @history, '+', '-', 'COUNT', 1)
        local lastId = ''
        if #last > 0 then lastId = last[1][1] end
        return {epoch, redis.call('HGET', @counter, 'n'), lastId}
        """);

    private IDatabase Db => redis.GetDatabase();

    private long RetentionMs => (long)options.Value.History.RoomRetention.TotalMilliseconds;

    /// <summary>Where the room's history ends now: its epoch (started here if the room has none), its last message's id and sequence.</summary>
    public async Task<RoomPosition> PositionAsync(string room)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(PositionScript, new
        {
            counter = ChatRedisKeys.RoomCounter(room),
            history = ChatRedisKeys.RoomHistory(room),
            retentionMs = RetentionMs,
        }))!;
        return new RoomPosition(NullIfEmpty((string?)result[2]), (long)result[1], (long)result[0]);
    }

    /// <summary>
    /// Stores the message (numbered, de-duplicated, published). Sends that arrive while a store is in flight wait
    /// and go together in one script call (<see cref="HistoryOptions.MaxAppendBatch"/>): under load one round trip,
    /// and one pass through a Redis that may share the core, stores many; a lone send goes at once.
    /// </summary>
    public async Task<AppendOutcome> AppendAsync(string user, string room, string clientMessageId, string text, string? traceParent)
    {
        var request = new AppendRequest(user, room, clientMessageId, text, traceParent);
        // Without group commit every send is its own script call, pipelined with the others on the connection.
        return _appends is null ? (await AppendBatchAsync([request]))[0] : await _appends.SubmitAsync(request);
    }

    private async Task<IReadOnlyList<AppendOutcome>> AppendBatchAsync(IReadOnlyList<AppendRequest> batch)
    {
        var history = options.Value.History;
        var keys = new RedisKey[1 + batch.Count * 5];
        var values = new RedisValue[4 + batch.Count * 6];
        keys[0] = ChatRedisKeys.MessageStream;
        (values[0], values[1], values[2], values[3]) = (history.MaxStreamLength, history.MaxMessagesPerRoom, history.DeduplicationMessages, RetentionMs);
        for (var i = 0; i < batch.Count; i++)
        {
            var (user, room, clientMessageId, text, traceParent) = batch[i];
            (keys[1 + i * 5], keys[2 + i * 5], keys[3 + i * 5], keys[4 + i * 5], keys[5 + i * 5]) = (ChatRedisKeys.RoomCounter(room),
                ChatRedisKeys.RoomDeduplication(room), ChatRedisKeys.RoomDeduplicationOrder(room), ChatRedisKeys.RoomHistory(room), ChatRedisKeys.RoomMembers(room));
            (values[4 + i * 6], values[5 + i * 6], values[6 + i * 6], values[7 + i * 6], values[8 + i * 6], values[9 + i * 6]) =
                (room, user, clientMessageId, text, traceParent ?? "", ChatRedisKeys.RoomDeliveryChannel(room));
        }

        var results = (RedisResult[])(await Db.ScriptEvaluateAsync(AppendBatchScript, keys, values))!;
        var outcomes = new AppendOutcome[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var (user, room, clientMessageId, text, traceParent) = batch[i];
            var result = (RedisResult[])results[i]!;
            var (id, sequence, epoch) = ParseAck((string)result[1]!);
            var message = new ChatMessage(id, room, user, text, SentAt(id), clientMessageId, sequence, epoch, traceParent);
            outcomes[i] = (string?)result[0] == "stored"
                ? new AppendOutcome(AppendStatus.Stored, message, (int)result[2], Published: (int)result[3] == 1, Batch: batch.Count)
                : new AppendOutcome(AppendStatus.Duplicate, message, (int)result[2], Published: false, Batch: batch.Count);
        }

        return outcomes;
    }

    // "id sequence epoch", as the script stores it for de-duplication.
    private static (string Id, long Sequence, long Epoch) ParseAck(string ack)
    {
        var text = ack.AsSpan();
        Span<Range> parts = stackalloc Range[4];
        if (text.Split(parts, ' ') != 3)
        {
            throw new InvalidDataException("The append script answered an acknowledgement that is not 'id sequence epoch'.");
        }

        return (ack[parts[0]], long.Parse(text[parts[1]], CultureInfo.InvariantCulture), long.Parse(text[parts[2]], CultureInfo.InvariantCulture));
    }

    private sealed record AppendRequest(string User, string Room, string ClientMessageId, string Text, string? TraceParent);

    /// <summary>
    /// Up to <paramref name="limit"/> messages after <paramref name="afterMessageId"/> (or from the oldest kept),
    /// oldest first, with the worker's moderation marks; as a page (<paramref name="asOnePage"/>), fewer when their
    /// texts reach <see cref="HistoryPages.MaxTextLength"/>. A replay, which sends each message as its own frame, reads
    /// them all.
    /// </summary>
    public async Task<IReadOnlyList<ChatMessage>> ReadAsync(string room, string? afterMessageId, int limit, bool asOnePage = true)
    {
        if (afterMessageId is not null && Parsed(afterMessageId) == LastPossibleId)
        {
            return []; // nothing can come after it, and Redis refuses the range as an error
        }

        var start = string.IsNullOrEmpty(afterMessageId) ? "-" : $"({afterMessageId}";
        var entries = await Db.StreamRangeAsync(ChatRedisKeys.RoomHistory(room), start, "+", limit);
        return await WithModerationAsync(room, asOnePage ? WithinTextLimit(entries) : entries);
    }

    /// <summary>The last <paramref name="limit"/> messages (fewer when their texts reach the page's limit), oldest first, with moderation marks.</summary>
    public Task<IReadOnlyList<ChatMessage>> ReadLatestAsync(string room, int limit) => ReadBackwardsAsync(room, "+", limit);

    /// <summary>Up to <paramref name="limit"/> messages before <paramref name="beforeMessageId"/>, oldest first, with moderation marks.</summary>
    public Task<IReadOnlyList<ChatMessage>> ReadBeforeAsync(string room, string beforeMessageId, int limit) =>
        Parsed(beforeMessageId) == FirstPossibleId
            ? Task.FromResult<IReadOnlyList<ChatMessage>>([]) // nothing can come before it, and Redis refuses the range as an error
            : ReadBackwardsAsync(room, $"({beforeMessageId}", limit);

    private async Task<IReadOnlyList<ChatMessage>> ReadBackwardsAsync(string room, string end, int limit)
    {
        var newestFirst = WithinTextLimit(await Db.StreamRangeAsync(ChatRedisKeys.RoomHistory(room), "-", end, limit, Order.Descending));
        return await WithModerationAsync(room, [.. newestFirst.Reverse()]);
    }

    // Entries in the order they are read (from the page's start), as many as a page may hold (HistoryPages).
    private static StreamEntry[] WithinTextLimit(StreamEntry[] entries)
    {
        var count = HistoryPages.CountWithin(entries.Select(entry => ((string?)entry["text"])?.Length ?? 0));
        return count == entries.Length ? entries : entries[..count];
    }

    private async Task<IReadOnlyList<ChatMessage>> WithModerationAsync(string room, StreamEntry[] entries)
    {
        if (entries.Length == 0)
        {
            return [];
        }

        var marks = await Db.HashGetAsync(ChatRedisKeys.RoomModerated(room), [.. entries.Select(e => (RedisValue)e.Id)]);
        return [.. entries.Select((entry, i) => ToMessage(room, entry) with { Moderation = marks[i].IsNull ? null : (string?)marks[i] })];
    }

    public async Task<RoomStats> StatsAsync(string room, int members)
    {
        var db = Db;
        var counter = db.HashGetAsync(ChatRedisKeys.RoomCounter(room), ["n", "epoch"]);
        var last = db.StreamRangeAsync(ChatRedisKeys.RoomHistory(room), "-", "+", 1, Order.Descending);
        var activeSince = time.GetUtcNow().AddMinutes(-RoomStats.ActiveSenderWindowMinutes).ToUnixTimeMilliseconds();
        var activeSenders = db.SortedSetLengthAsync(ChatRedisKeys.RoomSenders(room), activeSince);
        var activity = db.HashGetAsync(ChatRedisKeys.RoomActivity(room), ["processed", "moderated"]);
        await Task.WhenAll(counter, last, activeSenders, activity);

        var lastId = last.Result.Length > 0 ? (string?)last.Result[0].Id : null;
        return new RoomStats(room, members, (long?)counter.Result[0] ?? 0, lastId, lastId is null ? null : SentAt(lastId),
            (long?)activity.Result[0] ?? 0, (int)activeSenders.Result, (long?)activity.Result[1] ?? 0, (long?)counter.Result[1] ?? 0);
    }

    /// <summary>A message id is its stream entry id, "&lt;ms since epoch&gt;-&lt;n&gt;" in Redis's clock: the time it was accepted.</summary>
    public static DateTimeOffset SentAt(string messageId) =>
        DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(messageId.AsSpan(0, messageId.IndexOf('-'))));

    /// <summary>"&lt;ms&gt;-&lt;n&gt;", ASCII digits only, each part a 64-bit number, as Redis issues them.</summary>
    public static bool IsMessageId(string? value) => Parsed(value) is not null;

    private static readonly (ulong, ulong) FirstPossibleId = (0, 0);
    private static readonly (ulong, ulong) LastPossibleId = (ulong.MaxValue, ulong.MaxValue);

    private static (ulong Milliseconds, ulong Number)? Parsed(string? value)
    {
        var dash = value?.IndexOf('-') ?? -1;
        if (dash <= 0 || value!.Length > 41)
        {
            return null;
        }

        var first = value.AsSpan(0, dash);
        var second = value.AsSpan(dash + 1);
        return second.Length > 0 && !first.ContainsAnyExceptInRange('0', '9') && !second.ContainsAnyExceptInRange('0', '9')
            && ulong.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            && ulong.TryParse(second, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? (milliseconds, number) : null;
    }

    private static ChatMessage ToMessage(string room, StreamEntry entry) =>
        new((string)entry.Id!, room, (string)entry["user"]!, (string)entry["text"]!, SentAt((string)entry.Id!),
            (string)entry["cmid"]!, (long)entry["seq"], (long?)entry["ep"] ?? 0, NullIfEmpty((string?)entry["tp"]));

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

public enum AppendStatus
{
    Stored,
    Duplicate,
}

/// <summary>Where a room's history ends: its last message (null when it has none), the last sequence number issued, and the epoch it counts in.</summary>
public sealed record RoomPosition(string? LastMessageId, long LastSequence, long Epoch);

/// <summary>
/// The stored (or previously stored) message, the room's cluster-wide members at that moment, and whether
/// this append published it live (a duplicate is not published again: the first append did), and how many messages
/// the script call that stored it stored (group commit).
/// </summary>
public sealed record AppendOutcome(AppendStatus Status, ChatMessage Message, int Members, bool Published = false, int Batch = 1);
