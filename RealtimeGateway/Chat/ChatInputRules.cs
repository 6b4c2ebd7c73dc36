using Microsoft.AspNetCore.SignalR;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>What the hub accepts from clients; every refusal is a HubException a person can act on.</summary>
internal static class ChatInputRules
{
    public const int MaxRoomNameLength = 64;
    public const int MaxTextLength = 4000;
    public const int MaxClientMessageIdLength = 64;

    public static void EnsureRoomName(string? room)
    {
        if (string.IsNullOrEmpty(room) || room.Length > MaxRoomNameLength || !room.All(IsRoomNameChar))
        {
            throw new HubException(
                $"Room names are 1-{MaxRoomNameLength} characters of letters, digits, '-', '_' and '.'.");
        }
    }

    public static void EnsureText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxTextLength)
        {
            throw new HubException($"Message text must be 1-{MaxTextLength} characters and not blank.");
        }
    }

    public static void EnsureClientMessageId(string? clientMessageId)
    {
        if (string.IsNullOrWhiteSpace(clientMessageId) || clientMessageId.Length > MaxClientMessageIdLength)
        {
            throw new HubException($"clientMessageId must be 1-{MaxClientMessageIdLength} characters.");
        }
    }

    private static bool IsRoomNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
