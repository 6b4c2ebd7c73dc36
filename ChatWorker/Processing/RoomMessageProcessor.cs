using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.ChatWorker.Processing;

/// <summary>
/// The work done on each accepted room message: room statistics (processed, active senders, last activity)
/// and moderation (blocked words get the message marked in the history and a notice published on the room's
/// delivery channel, which the gateways write to the room's members). Exactly once: the statistics, the mark
/// and the notice happen in the same script that acknowledges the entry, so a redelivered entry (already
/// acknowledged) changes nothing, a crash cannot separate a decision from its notice, and no per-message key
/// is needed. The acknowledgement comes last: Redis does not undo a script's earlier writes when a later command
/// fails, and an entry acknowledged by a script that then failed would be lost instead of retried. (Such a failure
/// needs a key of the wrong type, someone writing into Redis by hand; its retries may repeat the writes before it.)
/// An entry no longer pending (acknowledged already, or its group gone with Redis's data) is a repeat: nothing is done.
/// </summary>
public sealed class RoomMessageProcessor(IConnectionMultiplexer redis, IOptions<WorkerOptions> options)
{
    public const string BlockedWordReason = "blocked-word";

    // The room's statistics and marks live as long as its history (the gateway renews that as messages come), give
    // or take a minute: their time to live is copied from the history's only when it is a minute short of it, since
    // each PEXPIRE is a write Redis appends to its AOF. Marks of messages the history no longer keeps are dropped:
    // nothing here grows with traffic.
    private static readonly LuaScript RecordScript = LuaScript.Prepare($$"""
        local pending = redis.pcall('XPENDING', @stream, @group, @messageId, @messageId, 1)
        if pending.err or #pending == 0 then return 0 end
        redis.call('HINCRBY', @activity, 'processed', 1)
        redis.call('HSET', @activity, 'last_activity', @sentAtMs)
        redis.call('ZADD', @senders, @sentAtMs, @user)
        redis.call('ZREMRANGEBYSCORE', @senders, '-inf', @forgetBeforeMs)
        if @reason ~= '' then
          redis.call('HSET', @moderated, @messageId, @reason)
          redis.call('ZADD', @moderatedOrder, @sentAtMs, @messageId)
          redis.call('HINCRBY', @activity, 'moderated', 1)
          local notice = {type = 'moderated', room = @room, messageId = @messageId, reason = @reason}
          if @traceParent ~= '' then notice.traceParent = @traceParent end
          redis.pcall('PUBLISH', @channel, cjson.encode(notice))
        end
        local oldest = redis.call('XRANGE', @history, '-', '+', 'COUNT', 1)
        if #oldest > 0 then
          local keptFromMs = tonumber(string.match(oldest[1][1], '^(%d+)'))
          for _, gone in ipairs(redis.call('ZRANGEBYSCORE', @moderatedOrder, '-inf', '(' .. keptFromMs)) do
            redis.call('HDEL', @moderated, gone)
          end
          redis.call('ZREMRANGEBYSCORE', @moderatedOrder, '-inf', '(' .. keptFromMs)
        end
        local ttl = redis.call('PTTL', @history)
        if ttl > 0 then
          for _, key in ipairs({@activity, @senders, @moderated, @moderatedOrder}) do
            local left = redis.call('PTTL', key)
            if left ~= -2 and left < ttl - {{ChatRedisKeys.RetentionRenewalSlackMs}} then redis.call('PEXPIRE', key, ttl) end
          end
        end
        redis.call('XACK', @stream, @group, @messageId)
        redis.call('HDEL', @attempts, @messageId)
        return 1
        """);

    private readonly Regex? _blockedWords = options.Value.Moderation.BlockedWords is { Length: > 0 } words
        ? new Regex($@"\b({string.Join('|', words.Select(Regex.Escape))})\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled)
        : null;

    public async Task<ProcessedMessage> ProcessAsync(StreamEntry entry, string? traceParent)
    {
        var message = StreamMessage.From(entry);
        var reason = _blockedWords?.IsMatch(message.Text) == true ? BlockedWordReason : "";
        var sentAt = DateTimeOffset.FromUnixTimeMilliseconds(message.SentAtMs);

        var firstTime = (int)await redis.GetDatabase().ScriptEvaluateAsync(RecordScript, new
        {
            stream = ChatRedisKeys.MessageStream,
            group = ChatRedisKeys.WorkerGroup,
            attempts = ChatRedisKeys.WorkerAttempts,
            history = ChatRedisKeys.RoomHistory(message.Room),
            activity = ChatRedisKeys.RoomActivity(message.Room),
            senders = ChatRedisKeys.RoomSenders(message.Room),
            moderated = ChatRedisKeys.RoomModerated(message.Room),
            moderatedOrder = ChatRedisKeys.RoomModeratedOrder(message.Room),
            channel = ChatRedisKeys.RoomDeliveryChannel(message.Room),
            sentAtMs = message.SentAtMs,
            forgetBeforeMs = sentAt.AddMinutes(-RoomStats.ActiveSenderWindowMinutes).ToUnixTimeMilliseconds(),
            user = message.User,
            reason,
            messageId = message.Id,
            room = message.Room,
            traceParent = traceParent ?? "",
        }) == 1;

        return new ProcessedMessage(message, firstTime, reason.Length > 0);
    }
}

public sealed record ProcessedMessage(StreamMessage Message, bool FirstTime, bool Moderated);
