using Microsoft.AspNetCore.SignalR;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// Creates the hub for each call without a trip through the call's service scope: SignalR's own activator is a
/// scoped service, so every hub call built a scope's dictionary of resolved services just to find it. The hub's
/// only dependency is a singleton.
/// </summary>
internal sealed class ChatHubActivator(IChatHubService chat) : IHubActivator<ChatHub>
{
    public ChatHub Create() => new(chat);

    public void Release(ChatHub hub) => hub.Dispose();
}
