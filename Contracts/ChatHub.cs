using Microsoft.AspNetCore.SignalR;

namespace RealtimeDemo.Contracts;

/// <summary>
/// The chat hub's public surface. It lives in the contract, not in the gateway, because the Redis backplane
/// names its channels after this type's full name and the worker must send through the very same type.
/// Each method only forwards to <see cref="IChatHubService"/>.
/// </summary>
public sealed class ChatHub(IChatHubService chat) : Hub<IChatClient>
{
    public Task<JoinRoomResult> JoinRoom(string room) => chat.JoinRoomAsync(Context, room);

    public Task<MessageAck> SendMessage(string room, string clientMessageId, string text) =>
        chat.SendMessageAsync(Context, room, clientMessageId, text);

    public ConnectionDetails GetConnectionInfo() => chat.GetConnectionInfo(Context);
}
