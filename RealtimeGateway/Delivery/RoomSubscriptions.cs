using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using RealtimeDemo.Contracts;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.Telemetry;
using StackExchange.Redis;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// The receiving side of <see cref="MessageDelivery"/> on this replica: subscribed to a room's channel
/// while it has local members there, it writes each message to them (serialized once per protocol) in a
/// CONSUMER span that continues the sender's trace, and passes its own trace context on to the clients.
/// </summary>
public sealed partial class RoomSubscriptions(
    LocalConnections local, IConnectionMultiplexer redis, GatewayTelemetry telemetry, RoomTemplate rooms, ILogger<RoomSubscriptions> logger)
{
    private readonly ConcurrentDictionary<string, ChannelMessageQueue> _subscriptions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Subscribes this replica to the room's deliveries while it has local members there, and only then.</summary>
    public async Task SyncSubscriptionAsync(string room)
    {
        await _gate.WaitAsync();
        try
        {
            var wanted = local.HasMembers(room);
            if (wanted && !_subscriptions.ContainsKey(room))
            {
                var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(ChatRedisKeys.RoomDeliveryChannel(room)));
                queue.OnMessage(delivery => DeliverLocallyAsync(room, delivery.Message));
                _subscriptions[room] = queue;
            }
            else if (!wanted && _subscriptions.TryRemove(room, out var queue))
            {
                await queue.UnsubscribeAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    // StackExchange.Redis swallows whatever escapes a subscription handler: catch, log, count and mark it here.
    private async Task DeliverLocallyAsync(string room, RedisValue payload)
    {
        var template = rooms.For(room);
        ChatMessage message;
        try
        {
            message = MessageStore.ReadPublished((byte[])payload!);
        }
        catch (Exception ex)
        {
            using var unreadable = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.ProcessSpan(template), ActivityKind.Consumer);
            unreadable.SetMessaging("process", room, template, messageId: null);
            Failed(unreadable, room, ex);
            return;
        }

        using var activity = GatewayTelemetry.Source.StartActivity(
            GatewayTelemetry.ProcessSpan(template), ActivityKind.Consumer, MessageTraceContext.Parse(message.TraceParent));
        activity.SetMessaging("process", room, template, message.Id);
        activity?.SetTag(Sequence, message.Sequence);
        try
        {
            await WriteToMembersAsync(room, template, message, activity);
        }
        catch (Exception ex)
        {
            Failed(activity, room, ex);
        }
    }

    private void Failed(Activity? activity, string room, Exception error)
    {
        activity?.SetStatus(ActivityStatusCode.Error);
        activity?.SetTag(ErrorType, error.GetType().Name);
        telemetry.BackgroundFailed(GatewayTelemetry.Operations.Deliver, error);
        LogDeliveryFailed(room, error.GetType().Name);
    }

    private async Task WriteToMembersAsync(string room, string template, ChatMessage message, Activity? activity)
    {
        // Clients continue from this replica's span; without one (not sampled) from the sender's.
        var outgoing = message with { TraceParent = MessageTraceContext.From(activity) ?? message.TraceParent };
        var serialized = new SerializedHubMessage(new InvocationMessage(nameof(IChatClient.MessageReceived), [outgoing]));
        var members = local.In(room);
        // Start every member's write before waiting for any: one slow socket must not hold up the others.
        List<Task>? pending = null;
        foreach (var connection in members)
        {
            var write = connection.WriteAsync(serialized);
            if (!write.IsCompletedSuccessfully)
            {
                (pending ??= []).Add(write.AsTask());
            }
        }

        if (pending is not null)
        {
            await Task.WhenAll(pending);
        }

        activity?.SetTag(LocalRecipients, members.Count);
        telemetry.Delivered(template, members.Count, DateTimeOffset.UtcNow - message.SentAt);
    }

    // The error's type only: its message could quote the payload, and a payload is a message body.
    [LoggerMessage(Level = LogLevel.Error, Message = "A delivery to this replica's members of room {Room} failed ({Error}); they fill the gap from the history at their next message")]
    private partial void LogDeliveryFailed(string room, string error);
}
