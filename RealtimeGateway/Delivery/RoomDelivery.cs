using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using RealtimeDemo.Contracts;
using RealtimeDemo.Contracts.Telemetry;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.Telemetry;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>
/// The receiving side on this replica: subscribed to a room's delivery channel while it has local members there
/// (and only then), it writes each of the room's events (<see cref="RoomEvent"/>) to them, serialized once per
/// protocol. A message is written in a CONSUMER span that continues the sender's trace and passes its own trace
/// context on to the clients; presence and moderation notices go to the room's members the same way.
/// </summary>
public sealed partial class RoomDelivery(
    LocalConnections local, IConnectionMultiplexer redis, GatewayTelemetry telemetry, RoomTemplate rooms, TimeProvider time, ILogger<RoomDelivery> logger)
{
    private readonly ConcurrentDictionary<string, ChannelMessageQueue> _subscriptions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Subscribes this replica to the room's channel while it has local members there, and only then.</summary>
    public async Task SyncSubscriptionAsync(string room)
    {
        await _gate.WaitAsync();
        try
        {
            var wanted = local.HasMembers(room);
            if (wanted && !_subscriptions.ContainsKey(room))
            {
                var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(ChatRedisKeys.RoomDeliveryChannel(room)));
                _ = DeliverInBatchesAsync(room, queue);
                _subscriptions[room] = queue;
            }
            else if (!wanted && _subscriptions.TryRemove(room, out var queue))
            {
                await queue.UnsubscribeAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Reads the room's events until the room is unsubscribed. Events that queued up while the last were written (a
    /// busy room, a replica behind) are taken together, and each member gets their messages in one frame: the hub
    /// protocol allows several messages in a frame, and one write and one send per member then serve them all. An
    /// event that finds none queued behind it goes alone, at once.
    /// </summary>
    private async Task DeliverInBatchesAsync(string room, ChannelMessageQueue queue)
    {
        var batch = new List<RedisValue>(MaxBatch);
        while (true)
        {
            try
            {
                batch.Add((await queue.ReadAsync()).Message);
            }
            catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException)
            {
                return; // unsubscribed: the room has no members here now
            }

            while (batch.Count < MaxBatch && queue.TryRead(out var next))
            {
                batch.Add(next.Message);
            }

            try
            {
                await (batch.Count == 1 ? DeliverAsync(room, batch[0]) : DeliverAsync(room, batch));
            }
            catch (Exception ex)
            {
                Failed(null, room, ex); // not expected (each delivery catches its own); the loop must go on
            }

            batch.Clear();
        }
    }

    // A frame of at most this many messages, and no more than about MaxBatchBytes: a client reads a frame whole.
    private const int MaxBatch = 32;
    private const int MaxBatchBytes = 64 * 1024;

    // Nothing may escape the reading loop (it would end the room's deliveries): catch, log, count and mark it here.
    private async Task DeliverAsync(string room, RedisValue payload)
    {
        var template = rooms.For(room);
        if (Parse(room, template, payload) is not { } roomEvent)
        {
            return;
        }

        await (roomEvent.Type is null ? DeliverMessageAsync(room, template, roomEvent) : DeliverNoticeAsync(room, roomEvent));
    }

    // Several events: each run of messages goes out framed together, a notice between them on its own, in order.
    private async Task DeliverAsync(string room, List<RedisValue> payloads)
    {
        var template = rooms.For(room);
        var messages = new List<RoomEvent>(payloads.Count);
        foreach (var payload in payloads)
        {
            switch (Parse(room, template, payload))
            {
                case { Type: null } message:
                    messages.Add(message);
                    break;
                case { } notice:
                    await DeliverMessagesAsync(room, template, messages);
                    messages.Clear();
                    await DeliverNoticeAsync(room, notice);
                    break;
            }
        }

        await DeliverMessagesAsync(room, template, messages);
    }

    private RoomEvent? Parse(string room, string template, RedisValue payload)
    {
        try
        {
            return RoomEvent.Parse((byte[])payload!);
        }
        catch (Exception ex)
        {
            using var unreadable = GatewayTelemetry.Source.StartActivity(GatewayTelemetry.ProcessSpan(template), ActivityKind.Consumer);
            unreadable.SetMessaging("process", room, template, messageId: null);
            Failed(unreadable, room, ex);
            return null;
        }
    }

    private async Task DeliverNoticeAsync(string room, RoomEvent roomEvent)
    {
        try
        {
            var (invocation, except) = roomEvent.Type switch
            {
                RoomEvent.Joined => (new InvocationMessage(nameof(IChatClient.UserJoined), [room, roomEvent.User]), roomEvent.Except),
                RoomEvent.Left => (new InvocationMessage(nameof(IChatClient.UserLeft), [room, roomEvent.User]), null),
                RoomEvent.Moderated => (new InvocationMessage(nameof(IChatClient.MessageModerated),
                    [new ModerationNotice(room, roomEvent.MessageId!, roomEvent.Reason!, roomEvent.TraceParent)]), null),
                _ => throw new InvalidDataException($"Unknown room event type '{roomEvent.Type}'."),
            };
            await WriteToMembersAsync(room, new SerializedHubMessage(invocation), except);
        }
        catch (Exception ex)
        {
            Failed(Activity.Current, room, ex);
        }
    }

    private async Task DeliverMessageAsync(string room, string template, RoomEvent published)
    {
        var message = new ChatMessage(published.Id!, room, published.User!, published.Text!, MessageStore.SentAt(published.Id!),
            published.ClientMessageId!, published.Sequence, published.Epoch, published.TraceParent);
        using var activity = GatewayTelemetry.Source.StartActivity(
            GatewayTelemetry.ProcessSpan(template), ActivityKind.Consumer, MessageTraceContext.Parse(message.TraceParent));
        activity.SetMessaging("process", room, template, message.Id);
        activity?.SetTag(Sequence, message.Sequence);
        try
        {
            // Clients continue from this replica's span; without one (not sampled) from the sender's.
            var outgoing = message with { TraceParent = MessageTraceContext.From(activity) ?? message.TraceParent };
            var recipients = await WriteToMembersAsync(room, new SerializedHubMessage(new InvocationMessage(nameof(IChatClient.MessageReceived), [outgoing])));
            activity?.SetTag(LocalRecipients, recipients);
            telemetry.Delivered(template, recipients, time.GetUtcNow() - message.SentAt);
        }
        catch (Exception ex)
        {
            Failed(activity, room, ex);
        }
    }

    /// <summary>
    /// Writes several messages to the room's members in frames of up to <see cref="MaxBatch"/>, each message in its
    /// own CONSUMER span (framed together only for members of one protocol: the gateway has only JSON's).
    /// </summary>
    private async Task DeliverMessagesAsync(string room, string template, List<RoomEvent> published)
    {
        var members = local.In(room);
        if (published.Count < 2 || members.Count == 0 || members.Any(member => member.Protocol.Name != members[0].Protocol.Name))
        {
            foreach (var message in published)
            {
                await DeliverMessageAsync(room, template, message);
            }

            return;
        }

        var protocol = members[0].Protocol;
        var caller = Activity.Current;
        var spans = new List<(Activity? Activity, ChatMessage Message)>(published.Count);
        var delivered = 0; // the spans before this one have their recipients
        var frame = new ArrayBufferWriter<byte>();
        try
        {
            foreach (var next in published)
            {
                Activity.Current = caller; // each message continues its own sender's trace, not the one before it
                var message = new ChatMessage(next.Id!, room, next.User!, next.Text!, MessageStore.SentAt(next.Id!),
                    next.ClientMessageId!, next.Sequence, next.Epoch, next.TraceParent);
                var activity = GatewayTelemetry.Source.StartActivity(
                    GatewayTelemetry.ProcessSpan(template), ActivityKind.Consumer, MessageTraceContext.Parse(message.TraceParent));
                activity.SetMessaging("process", room, template, message.Id);
                activity?.SetTag(Sequence, message.Sequence);
                spans.Add((activity, message));

                // Clients continue from this replica's span; without one (not sampled) from the sender's.
                var outgoing = new InvocationMessage(nameof(IChatClient.MessageReceived),
                    [message with { TraceParent = MessageTraceContext.From(activity) ?? message.TraceParent }]);
                frame.Write(protocol.GetMessageBytes(outgoing).Span);
                if (frame.WrittenCount >= MaxBatchBytes)
                {
                    await WriteAsync(Framed(protocol, frame));
                }
            }

            if (frame.WrittenCount > 0)
            {
                await WriteAsync(Framed(protocol, frame));
            }
        }
        catch (Exception ex)
        {
            // One failure, however many messages it held up: logged and counted once, marked on each of their spans.
            foreach (var (activity, _) in spans.Skip(delivered))
            {
                activity?.SetStatus(ActivityStatusCode.Error);
                activity?.SetTag(ErrorType, ex.GetType().Name);
            }

            Failed(null, room, ex);
        }
        finally
        {
            for (var i = spans.Count - 1; i >= 0; i--)
            {
                spans[i].Activity?.Dispose();
            }

            Activity.Current = caller;
        }

        // What was framed since the last write goes out; those messages' spans note whom it reached.
        async ValueTask WriteAsync(SerializedHubMessage serialized)
        {
            var recipients = await ConnectionWrites.WriteToAllAsync(members, serialized);
            for (; delivered < spans.Count; delivered++)
            {
                spans[delivered].Activity?.SetTag(LocalRecipients, recipients);
                telemetry.Delivered(template, recipients, time.GetUtcNow() - spans[delivered].Message.SentAt);
            }
        }
    }

    // Several messages' records, one after another, as one frame (they go to connections of this protocol only).
    private static SerializedHubMessage Framed(IHubProtocol protocol, ArrayBufferWriter<byte> frame)
    {
        var serialized = new SerializedHubMessage([new SerializedMessage(protocol.Name, frame.WrittenMemory.ToArray())]);
        frame.ResetWrittenCount();
        return serialized;
    }

    /// <summary>Writes to every local member of the room (but <paramref name="except"/>); returns how many.</summary>
    private ValueTask<int> WriteToMembersAsync(string room, SerializedHubMessage serialized, string? except = null) =>
        ConnectionWrites.WriteToAllAsync(local.In(room), serialized, except);

    private void Failed(Activity? activity, string room, Exception error)
    {
        activity?.SetStatus(ActivityStatusCode.Error);
        activity?.SetTag(ErrorType, error.GetType().Name);
        telemetry.BackgroundFailed(GatewayTelemetry.Operations.Deliver, error);
        LogDeliveryFailed(room, error.GetType().Name);
    }

    // The error's type only: its message could quote the payload, and a payload is a message body.
    [LoggerMessage(Level = LogLevel.Error, Message = "A delivery to this replica's members of room {Room} failed ({Error}); they fill the gap from the history at their next message")]
    private partial void LogDeliveryFailed(string room, string error);
}
