using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>
/// The chat hub's public surface, at <see cref="ChatHubPaths.Hub"/>; its method names are the contract's
/// <see cref="ChatHubMethods"/>. Each method only forwards to <see cref="IChatHubService"/>; argument rules are
/// declared on the parameters and enforced by the gateway's hub filters.
/// </summary>
public sealed class ChatHub(IChatHubService chat) : Hub<IChatClient>
{
    public override Task OnConnectedAsync() => chat.ConnectAsync(Context);

    public override Task OnDisconnectedAsync(Exception? exception) => chat.DisconnectAsync(Context);

    [CountsAsRoomChange]
    public Task<JoinRoomResult> JoinRoom([RoomName] string room) => chat.JoinRoomAsync(Context, room);

    [CountsAsRoomChange]
    public Task LeaveRoom([RoomName] string room) => chat.LeaveRoomAsync(Context, room);

    [CountsAsMessage]
    public Task<MessageAck> SendMessage([RoomName] string room, [ClientMessageId] string clientMessageId, [MessageText] string text) =>
        chat.SendMessageAsync(Context, room, clientMessageId, text);

    [CountsAsMessage]
    public Task<PrivateMessageAck> SendPrivateMessage([UserName] string toUser, [MessageText] string text) =>
        chat.SendPrivateMessageAsync(Context, toUser, text);

    [CountsAsRead]
    public Task<RoomStats> GetRoomStats([RoomName] string room) => chat.GetRoomStatsAsync(room);

    [CountsAsRead]
    public Task<IReadOnlyList<ChatMessage>> GetMessages([RoomName] string room, [MessageIdOrStart] string? afterMessageId, [PageSize] int limit) =>
        chat.GetMessagesAsync(Context, room, afterMessageId, limit);

    [CountsAsRead]
    public Task<IReadOnlyList<ChatMessage>> GetRecentMessages([RoomName] string room, [PageSize] int limit) =>
        chat.GetRecentMessagesAsync(Context, room, limit);

    [CountsAsRead]
    public Task<IReadOnlyList<ChatMessage>> GetOlderMessages([RoomName] string room, [MessageId] string beforeMessageId, [PageSize] int limit) =>
        chat.GetOlderMessagesAsync(Context, room, beforeMessageId, limit);

    [CountsAsRead]
    public Task<IReadOnlyList<RoomSummary>> ListRooms([PageSize] int limit) => chat.ListRoomsAsync(limit);

    [CountsAsRead]
    public Task<IReadOnlyList<string>> GetRoomMembers([RoomName] string room) => chat.GetRoomMembersAsync(Context, room);

    [CountsAsRead]
    public ConnectionDetails GetConnectionInfo() => chat.GetConnectionInfo(Context);
}
