using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.Delivery;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>Limits each connection's message sends with a token bucket; a refused send keeps the connection.</summary>
internal sealed class MessageRateFilter(IOptions<ChatOptions> options, LocalConnections local, TimeProvider time) : IHubFilter
{
    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (HubMethodRules.For(context.HubMethod).CountsAsMessage && !Bucket(context.Context).TryTake(time.GetTimestamp()))
        {
            var limits = options.Value.Limits;
            throw new ChatHubError(ChatErrorCodes.RateLimited,
                $"Too many messages: at most {limits.MessagesPerSecond:0.##} per second, bursts of {limits.MessageBurst} " +
                "(Chat:Limits:MessagesPerSecond, Chat:Limits:MessageBurst). Wait a moment and resend with the same clientMessageId.");
        }

        return next(context);
    }

    private TokenBucket Bucket(HubCallerContext connection)
    {
        var limits = options.Value.Limits;
        return local.NotesOf(connection.ConnectionId).Messages ??=
            new TokenBucket(limits.MessageBurst, limits.MessagesPerSecond, time.GetTimestamp(), time.TimestampFrequency);
    }
}
