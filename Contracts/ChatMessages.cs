namespace RealtimeDemo.Contracts;

/// <summary>
/// A room message as every member receives it. <see cref="Id"/> is unique across the cluster and orders the
/// room's history; <see cref="Sequence"/> counts the room's messages 1, 2, 3, … within its <see cref="Epoch"/>,
/// so a client that sees a jump knows it missed something and asks <c>GetMessages</c> for the gap. The epoch
/// changes only when the storage lost the room's counter (Redis lost its data, the room expired unused, or a room
/// that never held a message stayed empty for an hour):
/// the count starts again at 1, and a client resets what it holds for the room. <see cref="TraceParent"/> is the
/// W3C trace context of the delivery that brought it, so a client's handling continues the sender's trace.
/// </summary>
public sealed record ChatMessage(string Id, string Room, string User, string Text, DateTimeOffset SentAt, string ClientMessageId, long Sequence,
    long Epoch, string? TraceParent = null, string? Moderation = null);

/// <summary>The worker moderated a message of the room (it is marked so in the history too).</summary>
public sealed record ModerationNotice(string Room, string MessageId, string Reason, string? TraceParent = null);

/// <summary>Returned to the sender once the message is durably stored; a resend with the same client message id returns the same ack.</summary>
public sealed record MessageAck(string MessageId, string Room, DateTimeOffset SentAt, long Sequence, long Epoch);

/// <summary>
/// The room as the joiner finds it: cluster-wide members and where its history ends. Every message stored after
/// this position is delivered to the joiner live; what came before is history (<c>GetMessages</c>).
/// </summary>
public sealed record JoinRoomResult(string Room, int Members, string? LastMessageId, long LastSequence, long Epoch);

public sealed record PrivateChatMessage(string Id, string From, string To, string Text, DateTimeOffset SentAt, string? TraceParent = null);

public sealed record PrivateMessageAck(string MessageId, string To, DateTimeOffset SentAt);

/// <summary>
/// A room across the whole cluster. Members and messages (accepted) come from the gateway's registry and
/// history; processed messages, active senders (distinct users who sent in the last
/// <see cref="ActiveSenderWindowMinutes"/> minutes) and moderated messages from the worker, so they trail
/// by the worker's lag.
/// </summary>
public sealed record RoomStats(string Room, int Members, long Messages, string? LastMessageId, DateTimeOffset? LastMessageAt,
    long ProcessedMessages, int ActiveSenders, long ModeratedMessages, long Epoch)
{
    public const int ActiveSenderWindowMinutes = 5;
}

/// <summary>Which replica a connection landed on: the proxy in front of the replicas is not sticky.</summary>
public sealed record ConnectionDetails(string ConnectionId, string User, string Replica);

/// <summary>The body of <c>POST /auth/token</c>.</summary>
public sealed record TokenRequest(string? UserName);

public sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt);

/// <summary>A room with members, for room lists.</summary>
public sealed record RoomSummary(string Room, int Members);

/// <summary>
/// The cluster at a glance, for the operations view (GET /ops/snapshot). Silent processes stopped reporting without
/// a word (killed, frozen, cut off from Redis) in the last minute or so: their last numbers, and when (<c>At</c>).
/// </summary>
public sealed record OpsSnapshot(
    DateTimeOffset At, long Connections, long ActiveRooms, IReadOnlyList<RoomSummary> BusiestRooms,
    IReadOnlyList<GatewayReplicaStats> Gateways, IReadOnlyList<WorkerStats> Workers,
    IReadOnlyList<GatewayReplicaStats> SilentGateways, IReadOnlyList<WorkerStats> SilentWorkers);

/// <summary>One gateway process over its last second, and its deliveries per second over the last minute (oldest first).</summary>
public sealed record GatewayReplicaStats(
    string Replica, long Connections, double SendsPerSecond, double DeliveriesPerSecond,
    double? DeliveryP50Milliseconds, double? DeliveryP99Milliseconds, bool BackplaneConnected, DateTimeOffset At,
    IReadOnlyList<double> DeliveriesLastMinute);

/// <summary>One worker process: how far behind the stream is, and how fast it goes; its lag over the last minute (oldest first).</summary>
public sealed record WorkerStats(string Consumer, double LagSeconds, long Pending, double ProcessedPerSecond, DateTimeOffset At, IReadOnlyList<double> LagLastMinute);
