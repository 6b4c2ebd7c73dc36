using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.RealtimeGateway.Auth;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// The hub filter outside all but <see cref="SilentConnectionTimeout.CallsKeepAwake"/>. SignalR already traces each connect, disconnect and invocation with a short
/// span (ActivitySource Microsoft.AspNetCore.SignalR.Server); this enriches those spans — who connected
/// from where, why a connection ended, the room, the outcome and error type — links every span of a
/// connection to its connect span, and records the invocation and connection metrics.
/// </summary>
internal sealed class TelemetryHubFilter(GatewayTelemetry telemetry, RoomTemplate rooms, ReplicaDrain drain, LocalConnections local, TimeProvider time)
    : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var span = Activity.Current;
        LinkToConnect(span, context.Context);
        var room = HubMethodRules.For(context.HubMethod).Room(context.HubMethodArguments);
        var template = room is null ? null : rooms.For(room);
        span?.SetTag(MessagingDestinationTemplate, template);

        var started = time.GetTimestamp();
        var (outcome, errorType) = ("ok", (string?)null);
        try
        {
            return await next(context);
        }
        catch (ChatHubError error)
        {
            (outcome, errorType) = (error.IsServerFault ? "error" : "refused", error.Code);
            throw;
        }
        catch (Exception error)
        {
            (outcome, errorType) = ("error", error.GetType().Name);
            throw;
        }
        finally
        {
            span?.SetTag(Outcome, outcome);
            span?.SetTag(ErrorCode, errorType);
            telemetry.InvocationCompleted(context.HubMethodName, outcome, errorType, template, time.GetElapsedTime(started));
        }
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        var span = Activity.Current;
        var caller = context.Context;
        if (span is not null)
        {
            var http = caller.GetHttpContext();
            span.SetTag(EndUserId, caller.UserIdentifier);
            span.SetTag(ConnectionId, caller.ConnectionId);
            span.SetTag(UserAgent, http?.Request.Headers.UserAgent.ToString());
            span.SetTag(ClientAddress, http?.Connection.RemoteIpAddress?.ToString());
            local.NotesOf(caller.ConnectionId).ConnectSpan = span.Context;
        }

        try
        {
            await next(context);
        }
        catch (ChatHubError error)
        {
            span?.SetTag(ErrorCode, error.Code);
            caller.Items[DisconnectReasons.ItemKey] = DisconnectReasons.Limit;
            telemetry.ConnectionRejected(error.Code);
            throw;
        }
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        var reason = DisconnectReasons.Classify(
            context.Context.Items.TryGetValue(DisconnectReasons.ItemKey, out var preset) ? preset as string : null,
            exception,
            drain.Leaving,
            ChatAuthenticationExtensions.TokenExpired(context.Context.User, time));
        var span = Activity.Current;
        LinkToConnect(span, context.Context);
        span?.SetTag(DisconnectReason, reason);
        span?.SetTag(EndUserId, context.Context.UserIdentifier);
        span?.SetTag(ConnectionId, context.Context.ConnectionId);
        if (span is not null)
        {
            local.NotesOf(context.Context.ConnectionId).DisconnectSpan = span.Context;
        }

        telemetry.ConnectionClosed(reason);
        await next(context, exception);
    }

    private void LinkToConnect(Activity? span, HubCallerContext caller)
    {
        if (span is not null && local.NotesOf(caller.ConnectionId).ConnectSpan is var connect && connect != default)
        {
            span.AddLink(new ActivityLink(connect));
        }
    }
}

/// <summary>Why a connection ended: the chat.disconnect.reason values.</summary>
public static class DisconnectReasons
{
    /// <summary>Where code that closes a connection on purpose notes why (HubCallerContext.Items).</summary>
    public const string ItemKey = "chat.closing.reason";

    /// <summary>
    /// Notes why the connection is being closed and aborts it, unless another reason was noted first (the connection
    /// is already closing); says whether it did.
    /// </summary>
    public static bool Close(ConnectionContext connection, string reason, string message)
    {
        if (connection.Items.ContainsKey(ItemKey))
        {
            return false;
        }

        connection.Items[ItemKey] = reason;
        connection.Abort(new ConnectionAbortedException(message));
        return true;
    }

    public const string ClientClosed = "client_closed";
    public const string Timeout = "timeout";
    public const string TransportError = "transport_error";
    public const string ServerShutdown = "server_shutdown";
    public const string TokenExpired = "token_expired";
    public const string Limit = "limit";
    public const string ProtocolError = "protocol_error";
    public const string SlowClient = "slow_client";
    public const string Replaced = "replaced";

    // SignalR reports no exception when a client closes, and none either when its socket simply vanishes
    // (no WebSocket close frame): both are client_closed. transport_error is what SignalR does surface.
    public static string Classify(string? preset, Exception? exception, bool serverStopping, bool tokenExpired) =>
        preset ?? (serverStopping, tokenExpired, exception) switch
        {
            (true, _, _) => ServerShutdown,
            (_, true, _) => TokenExpired,
            (_, _, null) => ClientClosed,
            (_, _, ChatHubError { Code: ChatErrorCodes.FrameTooLarge }) => Limit,
            (_, _, ChatHubError { Code: ChatErrorCodes.ProtocolError }) => ProtocolError,
            (_, _, OperationCanceledException) => Timeout,
            (_, _, InvalidDataException e) when e.Message.Contains("maximum message size", StringComparison.Ordinal) => Limit,
            (_, _, InvalidDataException) => ProtocolError,
            // A frame that breaks the WebSocket protocol or a text frame that is not UTF-8 (WebSocketCloseReasons).
            (_, _, WebSocketException { WebSocketErrorCode: WebSocketError.Faulted }) => ProtocolError,
            _ => TransportError,
        };
}
