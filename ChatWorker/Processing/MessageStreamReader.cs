using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.ChatWorker.Processing;

/// <summary>
/// Blocking reads of the message stream through the consumer group. StackExchange.Redis multiplexes every
/// command on one connection, so a blocking XREADGROUP there would stall everything else; this reader has a
/// connection of its own that does nothing but wait for new entries.
/// </summary>
public sealed class MessageStreamReader(IConfiguration configuration, IOptions<WorkerOptions> options) : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() => ConnectAsync(configuration, options.Value));

    public async Task<IReadOnlyList<StreamEntry>> ReadNewAsync(string consumer)
    {
        var settings = options.Value;
        var connection = await _connection.Value;
        var reply = await connection.GetDatabase().ExecuteAsync("XREADGROUP",
            "GROUP", ChatRedisKeys.WorkerGroup, consumer,
            "COUNT", settings.BatchSize,
            "BLOCK", (long)settings.BlockTime.TotalMilliseconds,
            "STREAMS", (string)ChatRedisKeys.MessageStream!, ">");
        return Parse(reply);
    }

    // Reply: [[stream, [[id, [field, value, ...]], ...]]], or nil when nothing arrived within BLOCK.
    private static IReadOnlyList<StreamEntry> Parse(RedisResult reply)
    {
        if (reply.IsNull || reply.Length == 0)
        {
            return [];
        }

        var entries = (RedisResult[])((RedisResult[])reply[0]!)[1]!;
        return [.. entries.Select(entry =>
        {
            var parts = (RedisResult[])entry!;
            var fields = (RedisResult[])parts[1]!;
            var values = new NameValueEntry[fields.Length / 2];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = new NameValueEntry((RedisValue)fields[2 * i], (RedisValue)fields[2 * i + 1]);
            }

            return new StreamEntry((RedisValue)parts[0], values);
        })];
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(IConfiguration configuration, WorkerOptions settings)
    {
        var connectionString = configuration.GetConnectionString(ConnectionNames.Redis)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionNames.Redis} is not set.");
        var redis = ConfigurationOptions.Parse(connectionString);
        redis.AbortOnConnectFail = false;
        redis.ClientName = "chat-worker-reader";
        redis.SocketManager = SocketManager.ThreadPool; // as ChatRedisClientExtensions (ServerShared), for the same reason
        redis.AsyncTimeout = (int)(settings.BlockTime + TimeSpan.FromSeconds(5)).TotalMilliseconds;
        return await ConnectionMultiplexer.ConnectAsync(redis);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            await (await _connection.Value).DisposeAsync();
        }
    }
}
