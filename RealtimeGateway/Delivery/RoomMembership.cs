using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// Moves this replica's connections in and out of rooms: the local record (<see cref="LocalConnections"/>), this
/// replica's subscription to the room's channel (<see cref="RoomDelivery"/>), and a join or leave span per change.
/// The cluster's view (the registry) is the caller's to change first.
/// </summary>
public sealed partial class RoomMembership(LocalConnections local, RoomDelivery delivery, RoomTemplate rooms, GatewayTelemetry telemetry, ILogger<RoomMembership> logger)
{
    public async Task JoinAsync(string connectionId, string room)
    {
        using var join = StartSpan(GatewayTelemetry.JoinSpan(rooms.For(room)), connectionId, room, default);
        var joined = local.Join(connectionId, room);
        try
        {
            // Even for a connection already in the room: a join made again after one whose subscription failed
            // (Redis out of reach between the registry and the SUBSCRIBE) is what makes it. Made, it costs no call.
            await delivery.SyncSubscriptionAsync(room);
        }
        catch when (joined)
        {
            // The caller hears the join failed: it must not stay in the room here, listed but hearing nothing.
            local.Leave(connectionId, room);
            throw;
        }
    }

    public async Task LeaveAsync(string connectionId, string room)
    {
        using var leave = StartSpan(GatewayTelemetry.LeaveSpan(rooms.For(room)), connectionId, room, default);
        if (local.Leave(connectionId, room))
        {
            await delivery.SyncSubscriptionAsync(room);
        }
    }

    /// <summary>
    /// Forgets a connection that ended, leaving each of its rooms under <paramref name="disconnect"/>. Leaving a
    /// channel needs Redis; when it is out of reach the connection is still forgotten here, and the subscription
    /// stays until the room's next change on this replica.
    /// </summary>
    public async Task ForgetAsync(HubConnectionContext connection, ActivityContext disconnect)
    {
        foreach (var room in local.Remove(connection.ConnectionId))
        {
            using var leave = StartSpan(GatewayTelemetry.LeaveSpan(rooms.For(room)), connection.ConnectionId, room, disconnect);
            try
            {
                await delivery.SyncSubscriptionAsync(room);
            }
            catch (Exception ex)
            {
                UnsubscribeFailed(leave, ex);
            }
        }
    }

    /// <summary>Reports a channel that could not be left: logged once, counted, marked.</summary>
    private void UnsubscribeFailed(Activity? activity, Exception error)
    {
        activity?.SetStatus(ActivityStatusCode.Error);
        activity?.SetTag(ChatTelemetryAttributes.ErrorType, error.GetType().Name);
        telemetry.BackgroundFailed(GatewayTelemetry.Operations.Unsubscribe, error);
        LogUnsubscribeFailed(error.GetType().Name);
    }

    private Activity? StartSpan(string name, string connectionId, string room, ActivityContext parent)
    {
        var activity = parent == default ? GatewayTelemetry.Source.StartActivity(name) : GatewayTelemetry.Source.StartActivity(name, ActivityKind.Internal, parent);
        activity?.SetTag(ChatTelemetryAttributes.MessagingDestinationName, room);
        activity?.SetTag(ChatTelemetryAttributes.MessagingDestinationTemplate, rooms.For(room));
        activity?.SetTag(ChatTelemetryAttributes.ConnectionId, connectionId);
        return activity;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaving a room's delivery channel failed ({Error}); it is left at the room's next change on this replica")]
    private partial void LogUnsubscribeFailed(string error);
}
