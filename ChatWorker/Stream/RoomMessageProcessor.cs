using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using StackExchange.Redis;

namespace RealtimeDemo.ChatWorker.Stream;

/// <summary>
/// The work done on each accepted room message: room statistics (processed, active senders, last activity)
/// and moderation (blocked words get the message marked in the history and a notice sent to the room over
/// the SignalR backplane). Idempotent: a redelivered message changes nothing twice and notifies once.
/// </summary>
public sealed class RoomMessageProcessor(
    IConnectionMultiplexer redis, IHubContext<ChatHub, IChatClient> hub, IOptions<WorkerOptions> options)
{
    public const string BlockedWordReason = "blocked-word";

    // One script, so the "processed" mark and the statistics it guards change together or not at all.
    private static readonly LuaScript RecordScript = LuaScript.Prepare("""
        local first = redis.call('SET', @processed, '1', 'NX', 'EX', @markerSeconds)
        if first then
          redis.call('HINCRBY', @activity, 'processed', 1)
          redis.call('HSET', @activity, 'last_activity', @sentAtMs)
          redis.call('ZADD', @senders, @sentAtMs, @user)
          redis.call('ZREMRANGEBYSCORE', @senders, '-inf', @forgetBeforeMs)
          if @reason ~= '' then
            redis.call('HSET', @moderated, @messageId, @reason)
            redis.call('HINCRBY', @activity, 'moderated', 1)
            redis.call('SET', @pendingNotice, @room, 'EX', @markerSeconds)
          end
        end
        return {first and 1 or 0, redis.call('EXISTS', @pendingNotice)}
        """);

    private readonly Regex? _blockedWords = options.Value.Moderation.BlockedWords is { Length: > 0 } words
        ? new Regex($@"\b({string.Join('|', words.Select(Regex.Escape))})\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled)
        : null;

    public async Task<ProcessedMessage> ProcessAsync(StreamEntry entry, string? traceParent)
    {
        var message = StreamMessage.From(entry);
        var reason = _blockedWords?.IsMatch(message.Text) == true ? BlockedWordReason : "";
        var sentAt = DateTimeOffset.FromUnixTimeMilliseconds(message.SentAtMs);

        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(RecordScript, new
        {
            processed = ChatRedisKeys.WorkerProcessed(message.Id),
            activity = ChatRedisKeys.RoomActivity(message.Room),
            senders = ChatRedisKeys.RoomSenders(message.Room),
            moderated = ChatRedisKeys.RoomModerated(message.Room),
            pendingNotice = ChatRedisKeys.WorkerPendingNotice(message.Id),
            markerSeconds = (long)options.Value.ProcessedMarkerTtl.TotalSeconds,
            sentAtMs = message.SentAtMs,
            forgetBeforeMs = sentAt.AddDays(-1).ToUnixTimeMilliseconds(),
            user = message.User,
            reason,
            messageId = message.Id,
            room = message.Room,
        }))!;

        var firstTime = (int)result[0] == 1;
        if ((int)result[1] == 1)
        {
            // Decided (now or by a run that died before sending): send, then forget the pending notice.
            await hub.Clients.Group(message.Room).MessageModerated(new ModerationNotice(message.Room, message.Id, BlockedWordReason, traceParent));
            await redis.GetDatabase().KeyDeleteAsync(ChatRedisKeys.WorkerPendingNotice(message.Id));
        }

        return new ProcessedMessage(message, firstTime, reason.Length > 0);
    }
}

public sealed record ProcessedMessage(StreamMessage Message, bool FirstTime, bool Moderated);
