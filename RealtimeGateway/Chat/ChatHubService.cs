using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.RealtimeGateway.Chat;

internal sealed class ChatHubService(IHubContext<ChatHub, IChatClient> hub, ServiceInstance instance, TimeProvider time)
    : IChatHubService
{
    public async Task<JoinRoomResult> JoinRoomAsync(HubCallerContext caller, string room)
    {
        ChatInputRules.EnsureRoomName(room);
        await hub.Groups.AddToGroupAsync(caller.ConnectionId, room);
        JoinedRooms(caller).Add(room);
        return new JoinRoomResult(room);
    }

    public async Task<MessageAck> SendMessageAsync(HubCallerContext caller, string room, string clientMessageId, string text)
    {
        ChatInputRules.EnsureRoomName(room);
        ChatInputRules.EnsureClientMessageId(clientMessageId);
        ChatInputRules.EnsureText(text);
        if (!JoinedRooms(caller).Contains(room))
        {
            throw new HubException($"Join room '{room}' before sending to it.");
        }

        var message = new ChatMessage(Guid.CreateVersion7().ToString("N"), room, UserName(caller), text, time.GetUtcNow(), clientMessageId);
        await hub.Clients.Group(room).MessageReceived(message);
        return new MessageAck(message.Id, room, message.SentAt);
    }

    public ConnectionDetails GetConnectionInfo(HubCallerContext caller) =>
        new(caller.ConnectionId, UserName(caller), instance.Id);

    // Until sign-in exists every connection is an anonymous guest, named after its connection.
    private static string UserName(HubCallerContext caller) =>
        caller.User?.Identity?.Name ?? $"guest-{caller.ConnectionId[..6]}";

    private static HashSet<string> JoinedRooms(HubCallerContext caller)
    {
        if (caller.Items.TryGetValue(nameof(JoinedRooms), out var rooms))
        {
            return (HashSet<string>)rooms!;
        }

        var joined = new HashSet<string>(StringComparer.Ordinal);
        caller.Items[nameof(JoinedRooms)] = joined;
        return joined;
    }
}
