namespace RealtimeDemo.Contracts.Telemetry;

/// <summary>
/// Attribute names shared by every component (docs/telemetry.md lists where each appears). OpenTelemetry
/// semantic conventions where they exist; ours under "chat.".
/// </summary>
public static class ChatTelemetryAttributes
{
    // OpenTelemetry semantic conventions.
    public const string MessagingSystem = "messaging.system";
    public const string MessagingOperationType = "messaging.operation.type";
    public const string MessagingOperationName = "messaging.operation.name";
    public const string MessagingDestinationName = "messaging.destination.name";
    public const string MessagingDestinationTemplate = "messaging.destination.template";
    public const string MessagingMessageId = "messaging.message.id";
    public const string MessagingBodySize = "messaging.message.body.size";
    public const string MessagingConsumerGroup = "messaging.consumer.group.name";
    public const string MessagingBatchCount = "messaging.batch.message_count";
    public const string RpcMethod = "rpc.method";
    public const string ErrorType = "error.type";
    public const string UserAgent = "user_agent.original";
    public const string ClientAddress = "client.address";
    public const string EndUserId = "enduser.id";

    // Ours.
    public const string Outcome = "chat.outcome";

    /// <summary>Our error code on SignalR's spans, where SignalR itself sets error.type to the exception type.</summary>
    public const string ErrorCode = "chat.error.code";
    public const string RoomMembers = "chat.room.members";
    public const string LocalRecipients = "chat.recipients.local";
    public const string Sequence = "chat.message.sequence";
    public const string Duplicate = "chat.message.duplicate";
    public const string DisconnectReason = "chat.disconnect.reason";
    public const string RejectionReason = "chat.rejection.reason";
    public const string ConnectionId = "chat.connection.id";
    public const string GapFill = "chat.gap_fill";
    public const string GapReason = "chat.gap.reason";
    public const string Moderated = "chat.message.moderated";
    public const string Epoch = "chat.room.epoch";
    public const string RoomCount = "chat.rooms";
    public const string RecoveryReason = "chat.recovery.reason";
    public const string DeadReplica = "chat.replica.dead";
    public const string ConnectionsRemoved = "chat.connections.removed";

    /// <summary>Which background work failed (chat.background.failures).</summary>
    public const string ChatOperation = "chat.operation";

    /// <summary>The transport under our messaging spans: Redis streams and pub/sub.</summary>
    public const string MessagingSystemRedis = "redis";

    /// <summary>The attributes every messaging span of ours carries.</summary>
    public static void SetMessaging(this System.Diagnostics.Activity? activity, string operation, string? room, string? template, string? messageId)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(MessagingSystem, MessagingSystemRedis);
        activity.SetTag(MessagingOperationType, operation);
        activity.SetTag(MessagingDestinationName, room);
        activity.SetTag(MessagingDestinationTemplate, template);
        activity.SetTag(MessagingMessageId, messageId);
    }
}
