using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Telemetry;
using StackExchange.Redis;
using RealtimeDemo.ServerShared;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// When this replica's Redis subscription comes back after a drop (a Redis restart, a network blip), the
/// backplane resumes, but whatever was published meanwhile never reached this replica's clients. Replays
/// what their rooms accepted since shortly before the drop; clients drop the sequence numbers they have.
/// The drop is heard from the connection's failure events; that it is over is read from the subscription's
/// state, because StackExchange.Redis raises its events on the thread pool, in no guaranteed order.
/// </summary>
internal sealed partial class BackplaneRecovery(
    IConnectionMultiplexer redis, ChatHubService chat, GatewayTelemetry telemetry, TimeProvider time, ILogger<BackplaneRecovery> logger)
    : BackgroundService
{
    // Margins: Redis's clock (message ids) against ours, and a quiet time after the last failure before the
    // subscription counts as back (its state can still read "connected" as the failure is raised).
    private static readonly TimeSpan ClockMargin = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan QuietTime = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CheckEvery = TimeSpan.FromMilliseconds(250);

    private readonly Lock _gate = new();
    private DateTimeOffset? _lostAt;
    private DateTimeOffset _lastFailureAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionFailed += OnConnectionFailed;
        try
        {
            using var timer = new PeriodicTimer(CheckEvery);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (TakeOverOutage() is { } lostAt)
                {
                    await ReplayAsync(lostAt);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            redis.ConnectionFailed -= OnConnectionFailed;
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription)
        {
            return;
        }

        lock (_gate)
        {
            _lostAt ??= time.GetUtcNow();
            _lastFailureAt = time.GetUtcNow();
        }

        LogSubscriptionLost(e.FailureType.ToString());
    }

    /// <summary>When the outage began, once it is over (quiet since its last failure, the subscription connected); else null.</summary>
    private DateTimeOffset? TakeOverOutage()
    {
        lock (_gate)
        {
            if (_lostAt is not { } lostAt || time.GetUtcNow() - _lastFailureAt < QuietTime || !redis.GetSubscriber().IsConnected())
            {
                return null;
            }

            _lostAt = null;
            return lostAt;
        }
    }

    private async Task ReplayAsync(DateTimeOffset lostAt)
    {
        var outage = time.GetUtcNow() - lostAt;
        telemetry.BackplaneRestored(outage);
        using var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.ReplaySpan);
        try
        {
            var replayed = await chat.ReplayToLocalConnectionsAsync(lostAt - ClockMargin);
            activity?.SetTag(ChatTelemetryAttributes.MessagingBatchCount, replayed);
            LogReplayed(outage.TotalSeconds, replayed);
        }
        catch (Exception ex) when (ex.IsRedisOutOfReach())
        {
            // Redis is not quite back (the subscription came first): try again once it is quiet.
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
            activity?.SetTag(ChatTelemetryAttributes.ErrorType, ex.GetType().Name);
            lock (_gate)
            {
                (_lostAt, _lastFailureAt) = (_lostAt ?? lostAt, time.GetUtcNow());
            }

            LogReplayDeferred(ex.GetType().Name);
        }
        catch (Exception ex)
        {
            // Nothing else would report it: the replay runs on its own, after a connection event.
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
            activity?.SetTag(ChatTelemetryAttributes.ErrorType, ex.GetType().Name);
            telemetry.BackgroundFailed(GatewayTelemetry.Operations.Replay, ex);
            LogReplayFailed(ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backplane subscription lost ({Failure}); live deliveries to this replica stop until it is back")]
    private partial void LogSubscriptionLost(string failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backplane subscription back after {Seconds:F0} s; replayed {Messages} messages to local connections")]
    private partial void LogReplayed(double seconds, int messages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay after the backplane came back could not reach Redis ({Error}); trying again")]
    private partial void LogReplayDeferred(string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replay after the backplane came back failed ({Error}); clients recover on their next gap or reconnect")]
    private partial void LogReplayFailed(string error);
}
