using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using RealtimeDemo.Contracts;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// Private messages across the cluster: published once on one channel (<see cref="ChatRedisKeys.PrivateDeliveryChannel"/>)
/// that every replica subscribes to for its whole life, and written by each replica to the recipient's connections
/// it holds. SignalR's stock Redis backplane did this with two Redis subscriptions per connection (its own and its
/// user's, each with a reader loop in this process): the largest part of what an idle connection cost here. The
/// receiving side continues the sender's trace, as room deliveries do.
/// </summary>
public sealed partial class PrivateDelivery(
    LocalConnections local, IConnectionMultiplexer redis, GatewayTelemetry telemetry, ILogger<PrivateDelivery> logger) : BackgroundService
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(1);
    private static readonly RedisChannel Channel = RedisChannel.Literal(ChatRedisKeys.PrivateDeliveryChannel);

    /// <summary>Sends the message to every replica; those holding a connection of its recipient write it there.</summary>
    public async Task PublishAsync(PrivateChatMessage message) =>
        await redis.GetSubscriber().PublishAsync(Channel, JsonSerializer.SerializeToUtf8Bytes(message, JsonSerializerOptions.Web));

    // Subscribed once, retried until Redis answers (a gateway may start before Redis does); StackExchange.Redis
    // restores the subscription by itself after a reconnect.
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reported = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var queue = await redis.GetSubscriber().SubscribeAloneAsync(Channel); // each failed try would leave a queue behind
                queue.OnMessage(delivery => DeliverAsync(delivery.Message));
                return;
            }
            catch (Exception ex) when (ex.IsRedisFailure(stoppingToken))
            {
                if (!reported)
                {
                    reported = true;
                    telemetry.BackgroundFailed(GatewayTelemetry.Operations.Deliver, ex);
                    LogSubscribeFailed(ex.GetType().Name);
                }

                await Task.Delay(RetryEvery, stoppingToken);
            }
        }
    }

    // StackExchange.Redis swallows whatever escapes a subscription handler: catch, log, count and mark it here.
    private async Task DeliverAsync(RedisValue payload)
    {
        Activity? activity = null;
        try
        {
            var message = JsonSerializer.Deserialize<PrivateChatMessage>((byte[])payload!, JsonSerializerOptions.Web)
                ?? throw new JsonException("An empty private message.");
            var recipients = local.OfUser(message.To);
            if (recipients.Count == 0)
            {
                return;
            }

            activity = GatewayTelemetry.Source.StartActivity(
                GatewayTelemetry.ProcessSpan(GatewayTelemetry.UserTemplate), ActivityKind.Consumer, MessageTraceContext.Parse(message.TraceParent));
            activity.SetMessaging("process", room: null, GatewayTelemetry.UserTemplate, message.Id);
            activity?.SetTag(LocalRecipients, recipients.Count);
            var outgoing = message with { TraceParent = MessageTraceContext.From(activity) ?? message.TraceParent };
            var serialized = new SerializedHubMessage(new InvocationMessage(nameof(IChatClient.PrivateMessage), [outgoing]));
            var writes = ConnectionWrites.WriteToAllAsync(recipients, serialized);
            if (!writes.IsCompleted)
            {
                // Every user's private messages come through this one subscription, one at a time: a recipient whose
                // client stops reading must not hold up everyone else's (a room, by contrast, waits for its members).
                // Writes to one connection still go out in order. The span ends when they do.
                _ = FinishWhenWrittenAsync(writes.AsTask(), activity);
                activity = null;
                return;
            }

            await writes;
        }
        catch (Exception ex)
        {
            ReportFailure(activity, ex);
        }
        finally
        {
            activity?.Dispose();
        }
    }

    private async Task FinishWhenWrittenAsync(Task writes, Activity? activity)
    {
        try
        {
            await writes;
        }
        catch (Exception ex)
        {
            ReportFailure(activity, ex);
        }
        finally
        {
            activity?.Dispose();
        }
    }

    private void ReportFailure(Activity? activity, Exception ex)
    {
        activity?.SetStatus(ActivityStatusCode.Error);
        activity?.SetTag(ErrorType, ex.GetType().Name);
        telemetry.BackgroundFailed(GatewayTelemetry.Operations.Deliver, ex);
        LogDeliveryFailed(ex.GetType().Name);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to private messages failed ({Error}); retrying every second, and until then this replica's users receive none")]
    private partial void LogSubscribeFailed(string error);

    // The error's type only: its message could quote the payload, and a payload is a message body.
    [LoggerMessage(Level = LogLevel.Error, Message = "A private message for a user on this replica could not be delivered ({Error})")]
    private partial void LogDeliveryFailed(string error);
}
