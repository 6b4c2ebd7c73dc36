using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Runs just inside the telemetry filter: whatever goes wrong reaches the client as a HubException a person can act on,
/// never an exception's internals (detailed errors are off; SignalR's own protocol errors are worded by
/// ChatJsonHubProtocol). A failed disconnect, which no client waits for, is logged and counted here instead.
/// </summary>
internal sealed partial class HubErrorFilter(GatewayTelemetry telemetry, ILogger<HubErrorFilter> logger) : IHubFilter
{
    public const string StorageUnavailable = Contracts.ChatHubMethods.StorageUnavailableRefusal + "; try again in a moment.";

    // Only a send has a client message id to resend with; a room list or a sign-in refused with it confused people.
    private const string ResendHint = " Resending with the same clientMessageId never stores a message twice.";

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (ex is not HubException)
        {
            throw Translate(ex, context.HubMethodName);
        }
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (ex is not HubException)
        {
            throw Translate(ex, "connect");
        }
    }

    // Nobody waits for a disconnect: a failure is logged and counted here, once, and not passed on (SignalR would log
    // it again with its internals). The registry entry it could not remove goes at this replica's next orphan check,
    // or, if the replica is stopping, at the other replicas' sweep.
    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        try
        {
            await next(context, exception);
        }
        catch (Exception ex)
        {
            telemetry.BackgroundFailed(GatewayTelemetry.Operations.Disconnect, ex);
            if (IsStorageUnavailable(ex))
            {
                LogDisconnectStorageFailure(ex.GetType().Name);
            }
            else
            {
                LogUnexpected(ex, "disconnect", NewErrorId());
            }
        }
    }

    private ChatHubError Translate(Exception ex, string operation)
    {
        if (IsStorageUnavailable(ex))
        {
            LogStorageFailure(operation, ex.GetType().Name);
            return new ChatHubError(ChatErrorCodes.StorageUnavailable,
                operation == Contracts.ChatHubMethods.SendMessage ? StorageUnavailable + ResendHint : StorageUnavailable);
        }

        var errorId = NewErrorId();
        LogUnexpected(ex, operation, errorId);
        return new ChatHubError(ChatErrorCodes.Internal, $"{Contracts.ChatHubMethods.ServerFailure} '{operation}' (error id {errorId}).");
    }

    // Short enough to read out to support, long enough to find the one log line.
    private static string NewErrorId() => Guid.NewGuid().ToString("N")[..12];

    // Only Redis being out of reach (or saying it cannot serve right now) is an outage; any other error Redis
    // answers is a fault of ours, reported with an error id, never as "unreachable".
    // Hub methods take no token, so a cancellation is StackExchange.Redis failing a command on a socket it found dead.
    private static bool IsStorageUnavailable(Exception ex) => ex.IsRedisUnavailable();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub {Operation} failed: Redis unavailable ({Error})")]
    private partial void LogStorageFailure(string operation, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing a closed connection from the registry failed: Redis unavailable ({Error}); the orphan check removes it later")]
    private partial void LogDisconnectStorageFailure(string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Hub {Operation} failed unexpectedly (error id {ErrorId})")]
    private partial void LogUnexpected(Exception exception, string operation, string errorId);
}
