using System.Diagnostics;
using System.Text;
using RealtimeDemo.Contracts;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// The sending side. A room message is stored and published in one script (<see cref="MessageStore"/>) as its
/// own envelope on the room's Redis channel, which every replica with members in the room subscribes to
/// (<see cref="Delivery.RoomDelivery"/>, the receiving side). Unlike a SignalR group send over the backplane
/// (whose receiving side has no hook), this lets every replica's delivery continue the sender's trace: the trace
/// context travels inside the message (PRODUCER "send", one CONSUMER "process" per replica, then each client's
/// receive). Private messages go the same way on one cluster-wide channel (<see cref="PrivateDelivery"/>), their
/// trace context in the message too.
/// </summary>
public sealed partial class MessageSender(
    MessageStore store,
    PrivateDelivery privateDelivery,
    GatewayTelemetry telemetry,
    RoomTemplate rooms,
    TimeProvider time,
    ILogger<MessageSender> logger)
{
    /// <summary>Stores the message (the ack's promise) and, in the same script, publishes it to every replica with members in the room.</summary>
    public async Task<AppendOutcome> SendToRoomAsync(string user, string room, string clientMessageId, string text)
    {
        var template = rooms.For(room);
        using var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.SendSpan(template), ActivityKind.Producer);
        activity.SetMessaging("send", room, template, messageId: null);

        var appended = await store.AppendAsync(user, room, clientMessageId, text, MessageTraceContext.From(activity));
        var message = appended.Message;
        var bodyBytes = Encoding.UTF8.GetByteCount(text);
        activity?.SetTag(MessagingMessageId, message.Id);
        activity?.SetTag(Sequence, message.Sequence);
        activity?.SetTag(MessagingBodySize, bodyBytes);
        activity?.SetTag(RoomMembers, appended.Members);
        activity?.SetTag(Duplicate, appended.Status == AppendStatus.Duplicate);
        // Stored in one script call with this many (group commit); the call's Redis span is in the first one's trace.
        activity?.SetTag(MessagingBatchCount, appended.Batch);
        if (appended.Status == AppendStatus.Stored)
        {
            telemetry.MessageAccepted(template, bodyBytes, appended.Members);
            if (!appended.Published)
            {
                // Stored but not published: members see it through the history at their next gap fill.
                activity?.SetTag(ErrorType, "publish_failed");
                telemetry.PublishFailed(template);
                LogPublishFailed(room);
            }
        }

        return appended;
    }

    public async Task<PrivateChatMessage> SendToUserAsync(string from, string to, string text)
    {
        using var activity = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.SendSpan(GatewayTelemetry.UserTemplate), ActivityKind.Producer);
        // To the millisecond, as a room message's time (Redis's clock) is.
        var sentAt = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
        var message = new PrivateChatMessage(Guid.CreateVersion7().ToString("N"), from, to, text, sentAt, MessageTraceContext.From(activity));
        activity.SetMessaging("send", room: null, GatewayTelemetry.UserTemplate, message.Id);
        activity?.SetTag(MessagingBodySize, Encoding.UTF8.GetByteCount(text));
        await privateDelivery.PublishAsync(message);
        return message;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live delivery to room {Room} failed (Redis refused the publish); the message is stored and reaches members through the history")]
    private partial void LogPublishFailed(string room);
}
