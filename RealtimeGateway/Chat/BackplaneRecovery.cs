using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Telemetry;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// When this replica's Redis subscription comes back after a drop (a Redis restart, a network blip), the
/// backplane resumes, but whatever was published meanwhile never reached this replica's clients. Replays
/// what their rooms accepted since shortly before the drop; clients drop the sequence numbers they have.
/// </summary>
internal sealed partial class BackplaneRecovery(
    IConnectionMultiplexer redis, ChatHubService chat, GatewayTelemetry telemetry, ILogger<BackplaneRecovery> logger)
    : IHostedService
{
    // Margins: Redis's clock (message ids) against ours, and the subscription coming back a moment after the connection.
    private static readonly TimeSpan ClockMargin = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ResubscribeDelay = TimeSpan.FromSeconds(1);

    private DateTimeOffset? _lostAt;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionFailed -= OnConnectionFailed;
        redis.ConnectionRestored -= OnConnectionRestored;
        return Task.CompletedTask;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            _lostAt ??= DateTimeOffset.UtcNow;
            LogSubscriptionLost(e.FailureType.ToString());
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription && _lostAt is { } lostAt)
        {
            _lostAt = null;
            _ = ReplayAsync(lostAt);
        }
    }

    private async Task ReplayAsync(DateTimeOffset lostAt)
    {
        var outage = DateTimeOffset.UtcNow - lostAt;
        telemetry.BackplaneRestored(outage);
        using var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.ReplaySpan);
        try
        {
            await Task.Delay(ResubscribeDelay);
            var replayed = await chat.ReplayToLocalConnectionsAsync(lostAt - ClockMargin);
            activity?.SetTag(ChatTelemetryAttributes.MessagingBatchCount, replayed);
            LogReplayed(outage, replayed);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            LogReplayFailed(ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backplane subscription lost ({Failure}); live deliveries to this replica stop until it is back")]
    private partial void LogSubscriptionLost(string failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backplane subscription back after {Outage}; replayed {Messages} messages to local connections")]
    private partial void LogReplayed(TimeSpan outage, int messages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay after the backplane came back failed ({Error}); clients recover on their next gap or reconnect")]
    private partial void LogReplayFailed(string error);
}
