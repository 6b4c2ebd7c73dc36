using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// Wraps SignalR's Redis lifetime manager, which still carries private messages (user-targeted sends) across
/// replicas. It is where SignalR hands over each connection, so it keeps <see cref="LocalConnections"/> (which our
/// room delivery writes to) and forgets a connection's rooms when it ends. It owns the backplane, so that its
/// dispose at stop cannot fail the process when Redis is gone.
/// </summary>
internal sealed class ChatHubLifetimeManager(
    RedisHubLifetimeManager<ChatHub> inner, LocalConnections local, RoomMembership membership)
    : HubLifetimeManager<ChatHub>, IDisposable
{
    // The backplane unsubscribes from everything here, synchronously; with Redis out of reach that throws, and an
    // exception from a dispose at stop would end the process as a crash.
    public void Dispose()
    {
        try
        {
            inner.Dispose();
        }
        catch (Exception ex)
        {
            membership.UnsubscribeFailed(null, ex);
        }
    }

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        local.Add(connection);
        await inner.OnConnectedAsync(connection);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        // SignalR calls this after the hub's disconnect, outside its span: the rooms left belong to that trace.
        var disconnect = connection.Items.TryGetValue(TelemetryHubFilter.DisconnectSpanKey, out var span) && span is ActivityContext context ? context : default;
        await membership.ForgetAsync(connection, disconnect);
        try
        {
            await inner.OnDisconnectedAsync(connection);
        }
        catch (Exception ex)
        {
            membership.UnsubscribeFailed(Activity.Current, ex);
        }
    }

    // Rooms are ours (RoomMembership); SignalR groups are not used. Everything else is the Redis lifetime manager's.
    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        inner.AddToGroupAsync(connectionId, groupName, cancellationToken);

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        inner.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendAllAsync(methodName, args, cancellationToken);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        inner.SendAllExceptAsync(methodName, args, excludedConnectionIds, cancellationToken);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendConnectionAsync(connectionId, methodName, args, cancellationToken);

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendConnectionsAsync(connectionIds, methodName, args, cancellationToken);

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendGroupAsync(groupName, methodName, args, cancellationToken);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendGroupsAsync(groupNames, methodName, args, cancellationToken);

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        inner.SendGroupExceptAsync(groupName, methodName, args, excludedConnectionIds, cancellationToken);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendUserAsync(userId, methodName, args, cancellationToken);

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendUsersAsync(userIds, methodName, args, cancellationToken);

    public override Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken) =>
        inner.InvokeConnectionAsync<T>(connectionId, methodName, args, cancellationToken);

    public override Task SetConnectionResultAsync(string connectionId, Microsoft.AspNetCore.SignalR.Protocol.CompletionMessage result) =>
        inner.SetConnectionResultAsync(connectionId, result);

    public override bool TryGetReturnType(string invocationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? type) =>
        inner.TryGetReturnType(invocationId, out type);
}
