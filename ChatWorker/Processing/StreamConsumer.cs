using System.Diagnostics;
using Microsoft.Extensions.Options;
using RealtimeDemo.ChatWorker.Telemetry;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;

namespace RealtimeDemo.ChatWorker.Processing;

/// <summary>
/// Consumes the message stream through the "chat-worker" consumer group, at least once: an entry is
/// acknowledged only after its work is done. Entries another worker left pending (it died) or that failed
/// here are taken over after Worker:ClaimIdleTime (XAUTOCLAIM); one that fails Worker:MaxAttempts times goes
/// to the dead-letter stream with the reason, and everything behind it carries on. A stop finishes the
/// batch in hand, unless Redis is out of reach (then nothing in hand can finish, and another worker claims it).
/// </summary>
internal sealed partial class StreamConsumer(
    MessageStreamReader reader,
    RoomMessageProcessor processor,
    StorageGeneration storage,
    IConnectionMultiplexer redis,
    WorkerTelemetry telemetry,
    RoomTemplate rooms,
    ServiceInstance instance,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<StreamConsumer> logger)
    : BackgroundService
{
    private IDatabase Db => redis.GetDatabase();

    private readonly FailureStreak _outage = new(time);

    /// <summary>This process's name in the group; a restarted process is a new consumer, and claims what the old one left.</summary>
    private string Consumer { get; } = $"{instance.Id}.{Environment.ProcessId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Redis commands take no token, and with Redis out of reach each waits for its timeout (5 s), one after another:
        // a stop then leaves the round in hand behind (another worker claims what it held) instead of holding the stop.
        using var leaveBehind = new CancellationTokenSource();
        using var onStop = stoppingToken.Register(() =>
        {
            if (!redis.IsConnected)
            {
                leaveBehind.Cancel();
            }
        });
        var nextClaim = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                nextClaim = await ConsumeOnceAsync(nextClaim).WaitAsync(leaveBehind.Token);
                if (_outage.Succeeded() is { } outage)
                {
                    LogRedisBack(outage.Lasted.TotalSeconds, outage.Failures);
                }
            }
            catch (OperationCanceledException) when (leaveBehind.IsCancellationRequested)
            {
                break;
            }
            catch (RedisServerException ex) when (StreamGone(ex))
            {
                // The group is gone with the stream (Redis lost its data, or the stream was deleted). Make it again and
                // carry on; CheckStorageAsync says so if it was a loss.
                _groupReady = false;
                await CheckStorageAsync();
            }
            catch (Exception ex) when (ex.IsRedisFailure(leaveBehind.Token))
            {
                // An outage is said once; an error Redis answered (a wrong type, a permission) each time, as it is not
                // one, and in words that do not call a Redis that answers unavailable. Every failed round is counted.
                telemetry.RedisFailed(ex);
                if (ex.IsRedisUnavailable(leaveBehind.Token))
                {
                    if (_outage.Failed())
                    {
                        LogRedisUnavailable(ex.GetType().Name);
                    }
                }
                else if (ex is RedisServerException answered)
                {
                    LogRedisRefused(ErrorCode(answered));
                }
                else
                {
                    LogRedisCallFailed(ex.GetType().Name);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        await LeaveGroupAsync();
    }

    private async Task<DateTimeOffset> ConsumeOnceAsync(DateTimeOffset nextClaim)
    {
        await EnsureGroupAsync();
        if (time.GetUtcNow() >= nextClaim)
        {
            await CheckStorageAsync();
            await ReclaimAsync();
            nextClaim = time.GetUtcNow() + options.Value.ClaimIdleTime / 2;
        }

        // Not cancelled by the stop: a read returns within Worker:BlockTime, and a batch once read is finished.
        foreach (var entry in await reader.ReadNewAsync(Consumer))
        {
            await HandleAsync(entry);
        }

        return nextClaim;
    }

    // Each process is a consumer of its own, so every start (a scale-out, a restart) adds one to the group. At a
    // graceful stop (a scale-in drains here) this one leaves if it holds nothing pending; what it does hold stays for
    // another worker to claim, and the sweep below forgets it once that is done.
    private async Task LeaveGroupAsync()
    {
        try
        {
            if (!redis.IsConnected)
            {
                throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is out of reach at stop.");
            }

            var pending = await Db.StreamPendingMessagesAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup, 1, Consumer);
            if (pending.Length == 0)
            {
                await Db.StreamDeleteConsumerAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup, Consumer);
            }
        }
        catch (Exception ex) when (ex.IsRedisFailure())
        {
            // The sweep of another worker (or of the next one started) forgets this consumer later.
            LogLeaveFailed(ex.GetType().Name);
        }
    }

    // Consumers silent for long with nothing pending are processes that are gone (killed, or their entries claimed).
    private async Task ForgetGoneConsumersAsync()
    {
        var goneAfter = options.Value.ClaimIdleTime * 4;
        foreach (var consumer in await Db.StreamConsumerInfoAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup))
        {
            if (consumer.PendingMessageCount == 0 && consumer.IdleTimeInMilliseconds > goneAfter.TotalMilliseconds && consumer.Name != Consumer)
            {
                await Db.StreamDeleteConsumerAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup, consumer.Name);
            }
        }
    }

    private async Task EnsureGroupAsync()
    {
        if (_groupReady)
        {
            return;
        }

        try
        {
            // From the start of the stream: messages accepted while no worker ran are processed too.
            await Db.StreamCreateConsumerGroupAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup, "0-0", createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another replica, or an earlier run, created it.
        }

        _groupReady = true;
    }

    private bool _groupReady;

    private async Task CheckStorageAsync()
    {
        if (await storage.LostSinceLastCheckAsync(Db))
        {
            using var activity = WorkerTelemetry.Source.StartActivity(WorkerTelemetry.RestoreGroupSpan, ActivityKind.Internal, parentContext: default);
            activity?.SetTag(RecoveryReason, "storage_lost");
            _groupReady = false;
            LogStorageLost();
            await EnsureGroupAsync();
        }
    }

    private async Task ReclaimAsync()
    {
        var claimed = await Db.StreamAutoClaimAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup, Consumer,
            (long)options.Value.ClaimIdleTime.TotalMilliseconds, "0-0", options.Value.BatchSize);

        // Entries trimmed from the stream before anyone processed them: nothing left to do but let go.
        foreach (var id in claimed.DeletedIds)
        {
            await Db.StreamAcknowledgeAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup, id);
            await Db.HashDeleteAsync(ChatRedisKeys.WorkerAttempts, id);
        }

        if (claimed.ClaimedEntries.Length > 0)
        {
            LogReclaimed(claimed.ClaimedEntries.Length);
        }

        foreach (var entry in claimed.ClaimedEntries)
        {
            await HandleAsync(entry);
        }

        await ForgetGoneConsumersAsync();
    }

    private async Task HandleAsync(StreamEntry entry)
    {
        var room = StreamMessage.RoomOf(entry);
        var template = rooms.For(room);
        using var activity = WorkerTelemetry.Source.StartActivity(
            $"process {template}", ActivityKind.Consumer, MessageTraceContext.Parse(StreamMessage.TraceParentOf(entry)));
        activity.SetMessaging("process", room, template, entry.Id);
        activity?.SetTag(MessagingConsumerGroup, ChatRedisKeys.WorkerGroup);

        var started = time.GetTimestamp();
        string outcome;
        try
        {
            var processed = await processor.ProcessAsync(entry, MessageTraceContext.From(activity));
            outcome = processed.FirstTime ? EntryOutcomes.Processed : EntryOutcomes.Duplicate;
            activity?.SetTag(Moderated, processed.Moderated);
        }
        catch (Exception ex) when (!ex.IsRedisUnavailable())
        {
            // The entry itself is the problem: count the attempt; give up after Worker:MaxAttempts.
            outcome = await RecordFailureAsync(entry, ex);
            activity?.SetStatus(ActivityStatusCode.Error);
            activity?.SetTag(ErrorType, ex.GetType().Name);
        }

        activity?.SetTag(Outcome, outcome);
        telemetry.Handled(outcome, time.GetElapsedTime(started));
    }

    private async Task<string> RecordFailureAsync(StreamEntry entry, Exception error)
    {
        var attempts = await Db.HashIncrementAsync(ChatRedisKeys.WorkerAttempts, entry.Id);
        if (attempts < options.Value.MaxAttempts)
        {
            LogAttemptFailed(entry.Id!, (int)attempts, error.GetType().Name);
            return EntryOutcomes.Failed;
        }

        // Keep the entry's fields, so nothing is lost; the reason never includes the message text.
        NameValueEntry[] deadLetter =
        [
            new("id", entry.Id),
            new("reason", Reason(error)),
            new("attempts", attempts),
            .. entry.Values,
        ];
        await Db.StreamAddAsync(ChatRedisKeys.DeadLetters, deadLetter);
        await Db.StreamAcknowledgeAsync(ChatRedisKeys.MessageStream, ChatRedisKeys.WorkerGroup, entry.Id);
        await Db.HashDeleteAsync(ChatRedisKeys.WorkerAttempts, entry.Id);
        LogDeadLettered(entry.Id!, (int)attempts, error.GetType().Name);
        return EntryOutcomes.DeadLettered;
    }

    private static string Reason(Exception error) =>
        error is MalformedEntryException ? error.Message : $"{error.GetType().Name} while processing";

    // NOGROUP: the group does not exist. UNBLOCKED: the stream was deleted while this worker's read waited on it, which
    // a flush does to a worker that is idle (it spends its time in that read).
    private static bool StreamGone(RedisServerException ex) =>
        ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal) || ex.Message.StartsWith("UNBLOCKED", StringComparison.Ordinal);

    // Redis's errors begin with a code in capitals (WRONGTYPE, NOPERM, ERR); the rest can quote a key or an argument.
    private static string ErrorCode(RedisServerException ex)
    {
        var code = ex.Message.Split(' ', 2)[0];
        return code.Length is > 0 and <= 20 && code.All(char.IsAsciiLetterUpper) ? code : "ERR";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable ({Error}); retrying every second, and saying so once it answers again")]
    private partial void LogRedisUnavailable(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis refused the worker's command with the error {Code}; trying again every second")]
    private partial void LogRedisRefused(string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A Redis command of the worker failed ({Error}); trying again every second")]
    private partial void LogRedisCallFailed(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis answers again after {Seconds:F0} s; {Failures} tries failed meanwhile")]
    private partial void LogRedisBack(double seconds, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "Redis lost its data (the storage generation marker is gone): the consumer group is made again and reads the new stream from its start")]
    private partial void LogStorageLost();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaving the consumer group at stop failed ({Error}); another worker forgets this consumer later")]
    private partial void LogLeaveFailed(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Took over {Count} entries left pending too long")]
    private partial void LogReclaimed(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entry {Id} failed (attempt {Attempt}, {Error}); it will be retried")]
    private partial void LogAttemptFailed(string id, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Entry {Id} failed {Attempts} times ({Error}); moved to the dead-letter stream")]
    private partial void LogDeadLettered(string id, int attempts, string error);
}

/// <summary>Refreshes <see cref="StreamBacklog"/> every two seconds.</summary>
internal sealed class StreamBacklogSampler(StreamBacklog backlog, IConnectionMultiplexer redis) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        do
        {
            // Redis commands take no token: a stop must not wait for their timeouts when Redis is out of reach.
            await backlog.RefreshAsync(redis.GetDatabase()).WaitAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
