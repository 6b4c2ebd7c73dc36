using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// Room messages in Redis. A message is accepted by one script (the sender's replica has checked that its
/// connection is in the room) that numbers it, appends it to the worker's stream and to the room's history under the same id (with the
/// sender's trace context, field "tp"), remembers the client message id, and publishes it on the room's
/// delivery channel, so the ack means "durably stored", a resend changes nothing, and live delivery costs
/// no second round trip to Redis (which, under load, is where an ack waited longest).
/// </summary>
public sealed class MessageStore(IConnectionMultiplexer redis, IOptions<ChatOptions> options)
{
    private static readonly LuaScript AppendScript = LuaScript.Prepare("""
        local members = redis.call('HLEN', @members)
        local previous = redis.call('GET', @deduplication)
        if previous then return {'duplicate', previous, members} end
        local seq = redis.call('INCR', @sequence)
        local id = redis.call('XADD', @stream, 'MAXLEN', '~', @maxStream, '*',
          'room', @room, 'user', @user, 'text', @text, 'cmid', @clientMessageId, 'seq', seq, 'tp', @traceParent)
        redis.call('XADD', @history, 'MAXLEN', '~', @maxHistory, id,
          'user', @user, 'text', @text, 'cmid', @clientMessageId, 'seq', seq, 'tp', @traceParent)
        local ack = id .. ' ' .. seq
        redis.call('SET', @deduplication, ack, 'EX', @deduplicationSeconds)
        -- Last, and allowed to fail (an ACL, say) without undoing the store: members then fill the gap from the history.
        local live = {id = id, room = @room, user = @user, text = @text, clientMessageId = @clientMessageId, sequence = seq}
        if @traceParent ~= '' then live.traceParent = @traceParent end
        local published = redis.pcall('PUBLISH', @channel, cjson.encode(live))
        return {'stored', ack, members, type(published) == 'number' and 1 or 0}
        """);

    // One script, so the sequence and the last id belong to the same moment.
    private static readonly LuaScript PositionScript = LuaScript.Prepare("""
        local last = redis.call('XREVRANGE', @history, '+', '-', 'COUNT', 1)
        local lastId = ''
        if #last > 0 then lastId = last[1][1] end
        return {redis.call('GET', @sequence) or '0', lastId}
        """);

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Where the room's history ends now: its last message's id and sequence.</summary>
    public async Task<RoomPosition> PositionAsync(string room)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(PositionScript, new
        {
            history = ChatRedisKeys.RoomHistory(room),
            sequence = ChatRedisKeys.RoomSequence(room),
        }))!;
        return new RoomPosition(NullIfEmpty((string?)result[1]), (long)result[0]);
    }

    public async Task<AppendOutcome> AppendAsync(string user, string room, string clientMessageId, string text, string? traceParent)
    {
        var history = options.Value.History;
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(AppendScript, new
        {
            deduplication = ChatRedisKeys.Deduplication(user, room, clientMessageId),
            sequence = ChatRedisKeys.RoomSequence(room),
            stream = ChatRedisKeys.MessageStream,
            history = ChatRedisKeys.RoomHistory(room),
            members = ChatRedisKeys.RoomMembers(room),
            room,
            user,
            text,
            clientMessageId,
            traceParent = traceParent ?? "",
            channel = ChatRedisKeys.RoomDeliveryChannel(room),
            maxStream = history.MaxStreamLength,
            maxHistory = history.MaxMessagesPerRoom,
            deduplicationSeconds = (long)history.DeduplicationWindow.TotalSeconds,
        }))!;

        var members = (int)result[2];
        var ack = ((string)result[1]!).Split(' ');
        var message = new ChatMessage(ack[0], room, user, text, SentAt(ack[0]), clientMessageId, long.Parse(ack[1]), traceParent);
        return (string?)result[0] == "stored"
            ? new AppendOutcome(AppendStatus.Stored, message, members, Published: (int)result[3] == 1)
            : new AppendOutcome(AppendStatus.Duplicate, message, members, Published: false);
    }

    /// <summary>Reads what the append script published (its JSON has no sentAt: the id carries it).</summary>
    public static ChatMessage ReadPublished(byte[] payload)
    {
        var message = JsonSerializer.Deserialize<ChatMessage>(payload, JsonSerializerOptions.Web)!;
        return message with { SentAt = SentAt(message.Id) };
    }

    /// <summary>
    /// Up to <paramref name="limit"/> messages after <paramref name="afterMessageId"/> (or from the oldest kept),
    /// oldest first, with the worker's moderation marks.
    /// </summary>
    public async Task<IReadOnlyList<ChatMessage>> ReadAsync(string room, string? afterMessageId, int limit)
    {
        var start = string.IsNullOrEmpty(afterMessageId) ? "-" : $"({afterMessageId}";
        return await WithModerationAsync(room, await Db.StreamRangeAsync(ChatRedisKeys.RoomHistory(room), start, "+", limit));
    }

    /// <summary>The last <paramref name="limit"/> messages, oldest first, with moderation marks.</summary>
    public async Task<IReadOnlyList<ChatMessage>> ReadLatestAsync(string room, int limit)
    {
        var newestFirst = await Db.StreamRangeAsync(ChatRedisKeys.RoomHistory(room), "-", "+", limit, Order.Descending);
        return await WithModerationAsync(room, [.. newestFirst.Reverse()]);
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
        var sequence = db.StringGetAsync(ChatRedisKeys.RoomSequence(room));
        var last = db.StreamRangeAsync(ChatRedisKeys.RoomHistory(room), "-", "+", 1, Order.Descending);
        var activeSince = DateTimeOffset.UtcNow.AddMinutes(-RoomStats.ActiveSenderWindowMinutes).ToUnixTimeMilliseconds();
        var activeSenders = db.SortedSetLengthAsync(ChatRedisKeys.RoomSenders(room), activeSince);
        var activity = db.HashGetAsync(ChatRedisKeys.RoomActivity(room), ["processed", "moderated"]);
        await Task.WhenAll(sequence, last, activeSenders, activity);

        var lastId = last.Result.Length > 0 ? (string?)last.Result[0].Id : null;
        return new RoomStats(room, members, (long?)sequence.Result ?? 0, lastId, lastId is null ? null : SentAt(lastId),
            (long?)activity.Result[0] ?? 0, (int)activeSenders.Result, (long?)activity.Result[1] ?? 0);
    }

    /// <summary>A message id is its stream entry id, "&lt;ms since epoch&gt;-&lt;n&gt;" in Redis's clock: the time it was accepted.</summary>
    public static DateTimeOffset SentAt(string messageId) =>
        DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(messageId.AsSpan(0, messageId.IndexOf('-'))));

    /// <summary>
    /// "&lt;ms&gt;-&lt;n&gt;", ASCII digits only, each part a 64-bit number, as Redis issues them. The very last
    /// possible id is refused too: a range after it is empty by definition, and Redis rejects it as an error.
    /// </summary>
    public static bool IsMessageId(string? value)
    {
        var dash = value?.IndexOf('-') ?? -1;
        if (dash <= 0 || value!.Length > 41)
        {
            return false;
        }

        var first = value.AsSpan(0, dash);
        var second = value.AsSpan(dash + 1);
        return second.Length > 0 && !first.ContainsAnyExceptInRange('0', '9') && !second.ContainsAnyExceptInRange('0', '9')
            && ulong.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            && ulong.TryParse(second, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            && (milliseconds, number) != (ulong.MaxValue, ulong.MaxValue);
    }

    private static ChatMessage ToMessage(string room, StreamEntry entry) =>
        new((string)entry.Id!, room, (string)entry["user"]!, (string)entry["text"]!, SentAt((string)entry.Id!),
            (string)entry["cmid"]!, (long)entry["seq"], NullIfEmpty((string?)entry["tp"]));

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

public enum AppendStatus
{
    Stored,
    Duplicate,
}

/// <summary>Where a room's history ends: its last message (null when it has none) and the last sequence number issued.</summary>
public sealed record RoomPosition(string? LastMessageId, long LastSequence);

/// <summary>
/// The stored (or previously stored) message, the room's cluster-wide members at that moment, and whether
/// this append published it live (a duplicate is not published again: the first append did).
/// </summary>
public sealed record AppendOutcome(AppendStatus Status, ChatMessage Message, int Members, bool Published = false);
