namespace RealtimeDemo.Contracts;

/// <summary>What the server calls on every connected chat client.</summary>
public interface IChatClient
{
    Task MessageReceived(ChatMessage message);
}
