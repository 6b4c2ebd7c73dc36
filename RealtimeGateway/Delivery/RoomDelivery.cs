using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using RealtimeDemo.Contracts;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// The receiving side on this replica: subscribed to a room's delivery channel while it has local members there
/// (and only then), it writes each of the room's events (<see cref="RoomEvent"/>) to them, serialized once per
/// protocol. A message is written in a CONSUMER span that continues the sender's trace and passes its own trace
/// context on to the clients; presence and moderation notices go to the room's members the same way.
/// </summary>
public sealed partial class RoomDelivery(
    LocalConnections local, IConnectionMultiplexer redis, GatewayTelemetry telemetry, RoomTemplate rooms, TimeProvider time, ILogger<RoomDelivery> logger)
{
    private readonly ConcurrentDictionary<string, ChannelMessageQueue> _subscriptions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Subscribes this replica to the room's channel while it has local members there, and only then.</summary>
    public async Task SyncSubscriptionAsync(string room)
    {
        await _gate.WaitAsync();
        try
        {
            var wanted = local.HasMembers(room);
            if (wanted && !_subscriptions.ContainsKey(room))
            {
                var queue = await redis.GetSubscriber().SubscribeAloneAsync(RedisChannel.Literal(ChatRedisKeys.RoomDeliveryChannel(room)));
                queue.OnMessage(delivery => DeliverAsync(room, delivery.Message));
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
    private async Task DeliverAsync(string room, RedisValue payload)
    {
        var template = rooms.For(room);
        RoomEvent roomEvent;
        try
        {
            roomEvent = RoomEvent.Parse((byte[])payload!);
        }
        catch (Exception ex)
        {
            using var unreadable = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.ProcessSpan(template), ActivityKind.Consumer);
            unreadable.SetMessaging("process", room, template, messageId: null);
            Failed(unreadable, room, ex);
            return;
        }

        if (roomEvent.Type is null)
        {
            await DeliverMessageAsync(room, template, roomEvent);
            return;
        }

        try
        {
            var (invocation, except) = roomEvent.Type switch
            {
                RoomEvent.Joined => (new InvocationMessage(nameof(IChatClient.UserJoined), [room, roomEvent.User]), roomEvent.Except),
                RoomEvent.Left => (new InvocationMessage(nameof(IChatClient.UserLeft), [room, roomEvent.User]), null),
                RoomEvent.Moderated => (new InvocationMessage(nameof(IChatClient.MessageModerated),
                    [new ModerationNotice(room, roomEvent.MessageId!, roomEvent.Reason!, roomEvent.TraceParent)]), null),
                _ => throw new InvalidDataException($"Unknown room event type '{roomEvent.Type}'."),
            };
            await WriteToMembersAsync(room, new SerializedHubMessage(invocation), except);
        }
        catch (Exception ex)
        {
            Failed(Activity.Current, room, ex);
        }
    }

    private async Task DeliverMessageAsync(string room, string template, RoomEvent published)
    {
        var message = new ChatMessage(published.Id!, room, published.User!, published.Text!, MessageStore.SentAt(published.Id!),
            published.ClientMessageId!, published.Sequence, published.Epoch, published.TraceParent);
        using var activity = GatewayTelemetry.Source.StartActivity(
            GatewayTelemetry.ProcessSpan(template), ActivityKind.Consumer, MessageTraceContext.Parse(message.TraceParent));
        activity.SetMessaging("process", room, template, message.Id);
        activity?.SetTag(Sequence, message.Sequence);
        try
        {
            // Clients continue from this replica's span; without one (not sampled) from the sender's.
            var outgoing = message with { TraceParent = MessageTraceContext.From(activity) ?? message.TraceParent };
            var recipients = await WriteToMembersAsync(room, new SerializedHubMessage(new InvocationMessage(nameof(IChatClient.MessageReceived), [outgoing])));
            activity?.SetTag(LocalRecipients, recipients);
            telemetry.Delivered(template, recipients, time.GetUtcNow() - message.SentAt);
        }
        catch (Exception ex)
        {
            Failed(activity, room, ex);
        }
    }

    /// <summary>Writes to every local member of the room (but <paramref name="except"/>); returns how many.</summary>
    private ValueTask<int> WriteToMembersAsync(string room, SerializedHubMessage serialized, string? except = null) =>
        ConnectionWrites.WriteToAllAsync(local.In(room), serialized, except);

    private void Failed(Activity? activity, string room, Exception error)
    {
        activity?.SetStatus(ActivityStatusCode.Error);
        activity?.SetTag(ErrorType, error.GetType().Name);
        telemetry.BackgroundFailed(GatewayTelemetry.Operations.Deliver, error);
        LogDeliveryFailed(room, error.GetType().Name);
    }

    // The error's type only: its message could quote the payload, and a payload is a message body.
    [LoggerMessage(Level = LogLevel.Error, Message = "A delivery to this replica's members of room {Room} failed ({Error}); they fill the gap from the history at their next message")]
    private partial void LogDeliveryFailed(string room, string error);
}
