using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.RealtimeGateway.Chat;

/// <summary>The behaviour behind <see cref="ChatHub"/>, implemented by the gateway. Arguments arrive validated.</summary>
public interface IChatHubService
{
    Task ConnectAsync(HubCallerContext caller);

    Task DisconnectAsync(HubCallerContext caller);

    Task<JoinRoomResult> JoinRoomAsync(HubCallerContext caller, string room);

    Task LeaveRoomAsync(HubCallerContext caller, string room);

    Task<MessageAck> SendMessageAsync(HubCallerContext caller, string room, string clientMessageId, string text);

    Task<PrivateMessageAck> SendPrivateMessageAsync(HubCallerContext caller, string toUser, string text);

    Task<RoomStats> GetRoomStatsAsync(string room);

    Task<IReadOnlyList<ChatMessage>> GetMessagesAsync(HubCallerContext caller, string room, string? afterMessageId, int limit);

    Task<IReadOnlyList<ChatMessage>> GetRecentMessagesAsync(HubCallerContext caller, string room, int limit);

    Task<IReadOnlyList<ChatMessage>> GetOlderMessagesAsync(HubCallerContext caller, string room, string beforeMessageId, int limit);

    Task<IReadOnlyList<RoomSummary>> ListRoomsAsync(int limit);

    Task<IReadOnlyList<string>> GetRoomMembersAsync(HubCallerContext caller, string room);

    ConnectionDetails GetConnectionInfo(HubCallerContext caller);
}
