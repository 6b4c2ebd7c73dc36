using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Delivery;

internal static class ChannelSubscription
{
    /// <summary>
    /// Subscribes to a channel this process alone reads, through one queue; a SUBSCRIBE that fails leaves nothing behind.
    /// StackExchange.Redis registers the queue before Redis answers and keeps it when the SUBSCRIBE fails: nobody would
    /// read it, and it would hold every later message of the channel once the connection is back (it is unbounded).
    /// Taken away here, locally at once; telling Redis may fail too, and then what it still sends is dropped.
    /// </summary>
    public static async Task<ChannelMessageQueue> SubscribeAloneAsync(this ISubscriber subscriber, RedisChannel channel)
    {
        try
        {
            return await subscriber.SubscribeAsync(channel);
        }
        catch
        {
            _ = subscriber.UnsubscribeAsync(channel).ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            throw;
        }
    }

    /// <summary>
    /// The same for a handler: kept after a failed SUBSCRIBE, each try would add it once more, and it would then run
    /// once per try for every message.
    /// </summary>
    public static async Task SubscribeAloneAsync(this ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler, CommandFlags flags)
    {
        try
        {
            await subscriber.SubscribeAsync(channel, handler, flags);
        }
        catch
        {
            _ = subscriber.UnsubscribeAsync(channel, handler).ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            throw;
        }
    }
}
