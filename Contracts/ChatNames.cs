namespace RealtimeDemo.Contracts;

/// <summary>The naming rules of the contract, shared by the gateway (which enforces them) and clients (which can check first).</summary>
public static class ChatNames
{
    public const int MaxRoomLength = 64;
    public const int MaxUserLength = 32;
    public const int MaxClientMessageIdLength = 64;

    public const string RoomRule = "1-64 characters of letters, digits, '-', '_' and '.'";
    public const string UserRule = "1-32 characters of letters, digits, '-', '_' and '.'";

    public static bool IsValidRoom(string? room) => IsName(room, MaxRoomLength);

    public static bool IsValidUser(string? user) => IsName(user, MaxUserLength);

    private static bool IsName(string? name, int maxLength) =>
        !string.IsNullOrEmpty(name) && name.Length <= maxLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
