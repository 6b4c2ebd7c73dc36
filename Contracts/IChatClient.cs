namespace RealtimeDemo.Contracts;

/// <summary>What the server calls on connected chat clients.</summary>
public interface IChatClient
{
    Task MessageReceived(ChatMessage message);

    /// <summary>A user's first connection joined the room (a second tab of the same user is not news).</summary>
    Task UserJoined(string room, string user);

    /// <summary>A user's last connection left the room, by LeaveRoom, disconnect, or its replica dying.</summary>
    Task UserLeft(string room, string user);

    Task PrivateMessage(PrivateChatMessage message);

    /// <summary>The worker moderated a room message; clients hide or mark it.</summary>
    Task MessageModerated(ModerationNotice notice);
}
