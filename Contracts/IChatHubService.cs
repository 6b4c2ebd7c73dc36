using Microsoft.AspNetCore.SignalR;

namespace RealtimeDemo.Contracts;

/// <summary>The behaviour behind <see cref="ChatHub"/>, implemented by the gateway.</summary>
public interface IChatHubService
{
    Task<JoinRoomResult> JoinRoomAsync(HubCallerContext caller, string room);

    Task<MessageAck> SendMessageAsync(HubCallerContext caller, string room, string clientMessageId, string text);

    ConnectionDetails GetConnectionInfo(HubCallerContext caller);
}
