using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.RealtimeGateway.Chat;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// SignalR's local lifetime manager, plus our bookkeeping: it is where SignalR hands over each connection, so it
/// keeps <see cref="LocalConnections"/> (which room and private deliveries write to) and forgets a connection's
/// rooms when it ends. Nothing crosses replicas here: rooms travel on their own Redis channels
/// (<see cref="RoomDelivery"/>) and private messages on one channel (<see cref="PrivateDelivery"/>), so SignalR's
/// own cross-replica sends (groups, users, all) reach this replica's connections only and are not used.
/// </summary>
internal sealed class ChatHubLifetimeManager(
    LocalConnections local, RoomMembership membership, ILogger<DefaultHubLifetimeManager<ChatHub>> logger)
    : DefaultHubLifetimeManager<ChatHub>(logger)
{
    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        local.Add(connection);
        await base.OnConnectedAsync(connection);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        // SignalR calls this after the hub's disconnect, outside its span: the rooms left belong to that trace.
        await membership.ForgetAsync(connection, local.NotesOf(connection.ConnectionId).DisconnectSpan);
        await base.OnDisconnectedAsync(connection);
    }
}
