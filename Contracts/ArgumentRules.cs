namespace RealtimeDemo.Contracts;

/// <summary>
/// Declares what a hub argument must be; the gateway's argument filter enforces the rule (with its configured
/// limits) before the hub method runs, so the methods themselves hold no validation.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public abstract class ArgumentRuleAttribute : Attribute;

/// <summary>1-64 of A-Z, a-z, 0-9, '-', '_' and '.'.</summary>
public sealed class RoomNameAttribute : ArgumentRuleAttribute;

/// <summary>1-32 of A-Z, a-z, 0-9, '-', '_' and '.'.</summary>
public sealed class UserNameAttribute : ArgumentRuleAttribute;

/// <summary>Message text: not blank, at most the configured length (default 4,000 characters).</summary>
public sealed class MessageTextAttribute : ArgumentRuleAttribute;

/// <summary>The client's own id for a message, 1-64 characters; resending it never stores the message twice.</summary>
public sealed class ClientMessageIdAttribute : ArgumentRuleAttribute;

/// <summary>A message id as the server issued it, or null for "from the start of the history" (an empty string is refused).</summary>
public sealed class MessageIdOrStartAttribute : ArgumentRuleAttribute;

/// <summary>A message id as the server issued it, to read what came before it.</summary>
public sealed class MessageIdAttribute : ArgumentRuleAttribute;

/// <summary>How many items to return: 1 to the configured page size (default 200).</summary>
public sealed class PageSizeAttribute : ArgumentRuleAttribute;

/// <summary>The method sends messages and counts against the connection's message rate.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CountsAsMessageAttribute : Attribute;

/// <summary>The method reads (history, rooms, members, statistics) and counts what it returns against the connection's read rate.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CountsAsReadAttribute : Attribute;

/// <summary>The method joins or leaves a room and counts against the connection's rate of room changes.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CountsAsRoomChangeAttribute : Attribute;
