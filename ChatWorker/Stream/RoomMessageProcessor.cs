using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using StackExchange.Redis;

namespace RealtimeDemo.ChatWorker.Stream;

/// <summary>
/// The work done on each accepted room message: room statistics (processed, active senders, last activity)
/// and moderation (blocked words get the message marked in the history and a notice sent to the room over
/// the SignalR backplane). Exactly once: the statistics change in the same script that acknowledges the
/// entry, so a redelivered entry (already acknowledged) changes nothing, and no per-message key is needed.
/// A notice decided but not yet sent waits in <see cref="ChatRedisKeys.WorkerNotices"/> until it is.
/// </summary>
public sealed class RoomMessageProcessor(
    IConnectionMultiplexer redis, IHubContext<ChatHub, IChatClient> hub, IOptions<WorkerOptions> options)
{
    public const string BlockedWordReason = "blocked-word";

    // The room's statistics and marks live as long as its history (the gateway renews that on every send), and
    // marks of messages the history no longer keeps are dropped: nothing here grows with traffic.
    private static readonly LuaScript RecordScript = LuaScript.Prepare("""
        if redis.call('XACK', @stream, @group, @messageId) == 0 then return 0 end
        redis.call('HDEL', @attempts, @messageId)
        redis.call('HINCRBY', @activity, 'processed', 1)
        redis.call('HSET', @activity, 'last_activity', @sentAtMs)
        redis.call('ZADD', @senders, @sentAtMs, @user)
        redis.call('ZREMRANGEBYSCORE', @senders, '-inf', @forgetBeforeMs)
        if @reason ~= '' then
          redis.call('HSET', @moderated, @messageId, @reason)
          redis.call('ZADD', @moderatedOrder, @sentAtMs, @messageId)
          redis.call('HINCRBY', @activity, 'moderated', 1)
          redis.call('HSET', @notices, @messageId, @notice)
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
          for _, key in ipairs({@activity, @senders, @moderated, @moderatedOrder}) do redis.call('PEXPIRE', key, ttl) end
        end
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
            notices = ChatRedisKeys.WorkerNotices,
            sentAtMs = message.SentAtMs,
            forgetBeforeMs = sentAt.AddMinutes(-RoomStats.ActiveSenderWindowMinutes).ToUnixTimeMilliseconds(),
            user = message.User,
            reason,
            messageId = message.Id,
            notice = PendingNotice.Format(message.Room, DateTimeOffset.UtcNow, traceParent),
        }) == 1;

        if (firstTime && reason.Length > 0)
        {
            await SendNoticeAsync(message.Id, message.Room, traceParent);
        }

        return new ProcessedMessage(message, firstTime, reason.Length > 0);
    }

    /// <summary>
    /// Sends the notices a worker decided and did not get to send (it died in between), once they are older than
    /// <paramref name="olderThan"/>; a notice still in a live worker's hands may go twice, and clients drop repeats.
    /// </summary>
    public async Task<int> SendLeftoverNoticesAsync(TimeSpan olderThan)
    {
        var sent = 0;
        foreach (var entry in await redis.GetDatabase().HashGetAllAsync(ChatRedisKeys.WorkerNotices))
        {
            var notice = PendingNotice.Parse(entry.Value!);
            if (notice is null)
            {
                await redis.GetDatabase().HashDeleteAsync(ChatRedisKeys.WorkerNotices, entry.Name);
            }
            else if (DateTimeOffset.UtcNow - notice.DecidedAt >= olderThan)
            {
                await SendNoticeAsync((string)entry.Name!, notice.Room, notice.TraceParent);
                sent++;
            }
        }

        return sent;
    }

    private async Task SendNoticeAsync(string messageId, string room, string? traceParent)
    {
        await hub.Clients.Group(room).MessageModerated(new ModerationNotice(room, messageId, BlockedWordReason, traceParent));
        await redis.GetDatabase().HashDeleteAsync(ChatRedisKeys.WorkerNotices, messageId);
    }

    private sealed record PendingNotice(string Room, DateTimeOffset DecidedAt, string? TraceParent)
    {
        public static string Format(string room, DateTimeOffset decidedAt, string? traceParent) => $"{room}\t{decidedAt.ToUnixTimeMilliseconds()}\t{traceParent}";

        public static PendingNotice? Parse(string value) => value.Split('\t') is [var room, var decided, var traceParent] && long.TryParse(decided, out var ms)
            ? new PendingNotice(room, DateTimeOffset.FromUnixTimeMilliseconds(ms), traceParent.Length > 0 ? traceParent : null)
            : null;
    }
}

public sealed record ProcessedMessage(StreamMessage Message, bool FirstTime, bool Moderated);
