namespace RealtimeDemo.Contracts;

/// <summary>
/// The hub's methods, by name (a client in any language invokes these; argument rules are in
/// <see cref="ArgumentRuleAttribute"/>'s kin and the README). The gateway's hub implements exactly these: a test
/// holds the two together.
/// </summary>
public static class ChatHubMethods
{
    public const string JoinRoom = nameof(JoinRoom);
    public const string LeaveRoom = nameof(LeaveRoom);
    public const string SendMessage = nameof(SendMessage);
    public const string SendPrivateMessage = nameof(SendPrivateMessage);
    public const string GetRoomStats = nameof(GetRoomStats);
    public const string GetMessages = nameof(GetMessages);
    public const string GetRecentMessages = nameof(GetRecentMessages);
    public const string GetOlderMessages = nameof(GetOlderMessages);
    public const string ListRooms = nameof(ListRooms);
    public const string GetRoomMembers = nameof(GetRoomMembers);
    public const string GetConnectionInfo = nameof(GetConnectionInfo);

    /// <summary>
    /// How a LeaveRoom of a room the connection is not in is refused ("… 'room'."): the clients take it as a leave
    /// already done (the JavaScript client spells it too).
    /// </summary>
    public const string NotInRoomRefusal = "This connection is not in room";

    /// <summary>
    /// How every refusal for want of storage begins (Redis out of reach or too slow): a send refused so may still have
    /// been stored (its write timed out, not failed), so the clients say so (the JavaScript client spells it too).
    /// </summary>
    public const string StorageUnavailableRefusal = "Chat storage (Redis) is unreachable right now";

    /// <summary>
    /// How the gateway's answer begins when it failed unexpectedly ("… 'SendMessage' (error id …)."): it cannot say how
    /// far the call got, so a send answered so may have been stored too.
    /// </summary>
    public const string ServerFailure = "The server failed to handle";

    public static IReadOnlyList<string> All { get; } =
        [JoinRoom, LeaveRoom, SendMessage, SendPrivateMessage, GetRoomStats, GetMessages, GetRecentMessages, GetOlderMessages, ListRooms, GetRoomMembers, GetConnectionInfo];
}
