using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using RealtimeDemo.Contracts;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Hub;
using RealtimeDemo.RealtimeGateway.Telemetry;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// Wraps SignalR's Redis lifetime manager, which still carries presence, private messages and the worker's
/// notices. It sees every connection and group change, so it keeps <see cref="LocalConnections"/> for our
/// own room delivery (which the backplane cannot instrument), subscribes this replica to a room's deliveries
/// while it has members there, and records room joins and leaves as spans.
/// </summary>
internal sealed partial class ChatHubLifetimeManager(
    RedisHubLifetimeManager<ChatHub> inner, LocalConnections local, RoomSubscriptions subscriptions, RoomTemplate rooms,
    GatewayTelemetry telemetry, ILogger<ChatHubLifetimeManager> logger)
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
            telemetry.BackgroundFailed(GatewayTelemetry.Operations.Unsubscribe, ex);
            LogUnsubscribeFailed(ex.GetType().Name);
        }
    }

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        local.Add(connection);
        await inner.OnConnectedAsync(connection);
    }

    // Unsubscribing needs Redis; when it is out of reach the connection is still forgotten everywhere here
    // (the backplane included), and the subscription stays until the room's next change on this replica.
    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        // SignalR calls this after the hub's disconnect, outside its span: the rooms left belong to that trace.
        var disconnect = connection.Items.TryGetValue(TelemetryHubFilter.DisconnectSpanKey, out var span) && span is ActivityContext context ? context : default;
        foreach (var room in local.Remove(connection.ConnectionId))
        {
            using var leave = StartMembershipSpan(GatewayTelemetry.LeaveSpan(rooms.For(room)), connection.ConnectionId, room, disconnect);
            await UnsubscribeAsync(leave, () => subscriptions.SyncSubscriptionAsync(room));
        }

        await UnsubscribeAsync(Activity.Current, () => inner.OnDisconnectedAsync(connection));
    }

    private async Task UnsubscribeAsync(Activity? activity, Func<Task> unsubscribe)
    {
        try
        {
            await unsubscribe();
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error);
            activity?.SetTag(ChatTelemetryAttributes.ErrorType, ex.GetType().Name);
            telemetry.BackgroundFailed(GatewayTelemetry.Operations.Unsubscribe, ex);
            LogUnsubscribeFailed(ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaving a room's delivery channel failed ({Error}); it is left at the room's next change on this replica")]
    private partial void LogUnsubscribeFailed(string error);

    public override async Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        using var join = StartMembershipSpan(GatewayTelemetry.JoinSpan(rooms.For(groupName)), connectionId, groupName);
        await inner.AddToGroupAsync(connectionId, groupName, cancellationToken);
        if (local.Join(connectionId, groupName))
        {
            await subscriptions.SyncSubscriptionAsync(groupName);
        }
    }

    public override async Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        using var leave = StartMembershipSpan(GatewayTelemetry.LeaveSpan(rooms.For(groupName)), connectionId, groupName);
        await inner.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);
        if (local.Leave(connectionId, groupName))
        {
            await subscriptions.SyncSubscriptionAsync(groupName);
        }
    }

    private Activity? StartMembershipSpan(string name, string connectionId, string room, ActivityContext parent = default)
    {
        var activity = parent == default ? GatewayTelemetry.Source.StartActivity(name) : GatewayTelemetry.Source.StartActivity(name, ActivityKind.Internal, parent);
        activity?.SetTag(ChatTelemetryAttributes.MessagingDestinationName, room);
        activity?.SetTag(ChatTelemetryAttributes.MessagingDestinationTemplate, rooms.For(room));
        activity?.SetTag(ChatTelemetryAttributes.ConnectionId, connectionId);
        return activity;
    }

    // Everything else is the Redis lifetime manager's.
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
