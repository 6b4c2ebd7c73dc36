namespace RealtimeDemo.Contracts;

/// <summary>A room message as every member receives it.</summary>
public sealed record ChatMessage(string Id, string Room, string User, string Text, DateTimeOffset SentAt, string ClientMessageId);

/// <summary>Returned to the sender once the server has accepted a message.</summary>
public sealed record MessageAck(string MessageId, string Room, DateTimeOffset SentAt);

public sealed record JoinRoomResult(string Room);

/// <summary>Which replica a connection landed on: the DCP proxy in front of the replicas is not sticky.</summary>
public sealed record ConnectionDetails(string ConnectionId, string User, string Replica);
