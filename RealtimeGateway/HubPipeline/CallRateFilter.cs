using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.RealtimeGateway.Delivery;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Limits each connection's message sends, its joins and leaves, and what it reads, with a token bucket each; a
/// refused call keeps the connection. Joins and leaves are limited because each is announced to the room's members
/// and a room's first join writes to Redis; reads by the items they return, as a page of history can be 200 messages.
/// </summary>
internal sealed class CallRateFilter(IOptions<ChatOptions> options, LocalConnections local, TimeProvider time) : IHubFilter
{
    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var rules = HubMethodRules.For(context.HubMethod);
        var limits = options.Value.Limits;
        if (rules.CountsAsMessage && !MessageBucket(context.Context).TryTake(time.GetTimestamp()))
        {
            throw new ChatHubError(ChatErrorCodes.RateLimited,
                $"Too many messages: at most {limits.MessagesPerSecond:0.##} per second, bursts of {limits.MessageBurst} " +
                "(Chat:Limits:MessagesPerSecond, Chat:Limits:MessageBurst). " +
                // A private message has no client message id: it is not stored, and not recognised when sent again.
                (context.HubMethodName == ChatHubMethods.SendMessage
                    ? "Wait a moment and resend with the same clientMessageId."
                    : "It was not sent: wait a moment and send it again."));
        }

        if (rules.CountsAsRoomChange && ChangesMembership(context, rules) && !RoomChangeBucket(context.Context).TryTake(time.GetTimestamp()))
        {
            throw new ChatHubError(ChatErrorCodes.RateLimited,
                $"Too many joins and leaves: at most {limits.RoomChangesPerSecond:0.##} per second, bursts of {limits.RoomChangeBurst()} " +
                "(Chat:Limits:RoomChangesPerSecond; bursts of twice Chat:Limits:MaxRoomsPerConnection). Wait a moment and try again.");
        }

        if (rules.CountsAsRead)
        {
            var reads = ReadBucket(context.Context);
            if (!reads.TryTake(time.GetTimestamp()))
            {
                throw new ChatHubError(ChatErrorCodes.RateLimited,
                    $"Too many reads: at most {limits.ItemsReadPerSecond:0.##} items per second, bursts of {limits.ItemsReadBurst} " +
                    $"(Chat:Limits:ItemsReadPerSecond, Chat:Limits:ItemsReadBurst; a read counts the messages, rooms or names it returns, at least {LeastReadCost}). " +
                    "Wait a moment and try again.");
            }

            return ReadAsync(context, next, reads);
        }

        return next(context);
    }

    /// <summary>What a read that returns fewer items costs: each is a round trip to Redis, whatever it returns.</summary>
    public const int LeastReadCost = 10;

    // What a read costs is what it returned: one token was taken to let it run, the rest once it has.
    private static async ValueTask<object?> ReadAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next, TokenBucket reads)
    {
        var result = await next(context);
        reads.TakeMore(Math.Max(LeastReadCost, result is System.Collections.ICollection items ? items.Count : 1) - 1);
        return result;
    }

    // Only a join or leave that would change the connection's rooms counts: a member's repeated join (a client asking
    // where the room stands) and calls the room limit or a missing membership will refuse announce nothing.
    private bool ChangesMembership(HubInvocationContext context, HubMethodRules rules)
    {
        var (connectionId, room) = (context.Context.ConnectionId, rules.Room(context.HubMethodArguments));
        if (room is null)
        {
            return false; // not a room name: refused by its argument rule
        }

        var member = local.IsIn(connectionId, room);
        return context.HubMethodName == ChatHubMethods.JoinRoom
            ? !member && local.RoomsOf(connectionId).Count < options.Value.Limits.MaxRoomsPerConnection
            : member;
    }

    private TokenBucket MessageBucket(HubCallerContext connection)
    {
        var limits = options.Value.Limits;
        return local.NotesOf(connection.ConnectionId).Messages ??=
            new TokenBucket(limits.MessageBurst, limits.MessagesPerSecond, time.GetTimestamp(), time.TimestampFrequency);
    }

    private TokenBucket ReadBucket(HubCallerContext connection)
    {
        var limits = options.Value.Limits;
        return local.NotesOf(connection.ConnectionId).Reads ??=
            new TokenBucket(limits.ItemsReadBurst, limits.ItemsReadPerSecond, time.GetTimestamp(), time.TimestampFrequency);
    }

    private TokenBucket RoomChangeBucket(HubCallerContext connection)
    {
        var limits = options.Value.Limits;
        return local.NotesOf(connection.ConnectionId).RoomChanges ??=
            new TokenBucket(limits.RoomChangeBurst(), limits.RoomChangesPerSecond, time.GetTimestamp(), time.TimestampFrequency);
    }
}
