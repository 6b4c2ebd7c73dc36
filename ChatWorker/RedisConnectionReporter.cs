using StackExchange.Redis;

namespace RealtimeDemo.ChatWorker;

/// <summary>Reports which Redis server the worker reached; message consumption comes with the worker issue.</summary>
internal sealed partial class RedisConnectionReporter(IConnectionMultiplexer redis, ILogger<RedisConnectionReporter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var latency = await redis.GetDatabase().PingAsync();
                var server = redis.GetServers().FirstOrDefault();
                LogConnected(server?.EndPoint.ToString() ?? "?", server?.Version.ToString() ?? "?", latency.TotalMilliseconds);
                return;
            }
            catch (RedisException ex)
            {
                LogNotReachable(ex.GetType().Name);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to Redis {Endpoint} (server {Version}), ping {PingMs:F1} ms")]
    private partial void LogConnected(string endpoint, string version, double pingMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis not reachable yet ({Error}); retrying")]
    private partial void LogNotReachable(string error);
}
