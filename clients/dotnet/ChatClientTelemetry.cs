using System.Diagnostics;
using System.Diagnostics.Metrics;
using RealtimeDemo.Contracts.Telemetry;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.Client;

/// <summary>
/// The .NET client's spans and metrics (docs/telemetry.md): a CONSUMER span per room or private message it
/// hands to the application, continuing the trace the message carries, and a count of gap fills.
/// </summary>
public static class ChatClientTelemetry
{
    public const string Name = "RealtimeDemo.ChatClient";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Why a client fetched history (<c>chat.gap.reason</c>).</summary>
    public static class GapReasons
    {
        public const string Reconnect = "reconnect";
        public const string MissedDelivery = "missed_delivery";
        public const string StorageReset = "storage_reset";
    }

    // Observed, not added to, so that a client that never had to fill a gap or failed to rejoin shows 0 on the
    // dashboard rather than no such counter at all. Static, as the meter is: every client in the process adds up.
    private static readonly ObservedCounts GapFills = new(GapReason, null, [GapReasons.Reconnect, GapReasons.MissedDelivery, GapReasons.StorageReset]);
    private static readonly ObservedCounts MissedMessages = new(GapReason, null, [null]);
    private static readonly ObservedCounts RejoinFailures = new(ErrorType, null, [null]);
    private static readonly ObservedCounts ResumeFailures = new(ErrorType, null, [null]);

    static ChatClientTelemetry()
    {
        Meter.CreateObservableCounter("chat.client.gap_fills", GapFills.Observe, "{fill}",
            "Times the client fetched history to fill a gap (a missed delivery or a reconnect).");
        Meter.CreateObservableCounter("chat.client.messages_missed", MissedMessages.Observe, "{message}",
            "Room messages the client could not show: sent while it was away, and no longer kept in the room's history.");
        Meter.CreateObservableCounter("chat.client.rejoin.failures", RejoinFailures.Observe, "{failure}",
            "Times rejoining a room after a reconnect failed (the client retries, then gives the room up).");
        Meter.CreateObservableCounter("chat.client.resume.failures", ResumeFailures.Observe, "{failure}",
            "Times connecting again after a pause failed (the caller decides whether to retry).");
    }

    public const string ReceiveSpan = "receive room/{name}";
    public const string ReceivePrivateSpan = "receive user/{name}";
    public const string RejoinSpan = "rejoin rooms";
    public const string GapFillSpan = "fill gap room/{name}";

    /// <summary>A reconnect's recovery: rejoining every room and filling its gap is one trace of its own.</summary>
    public static Activity? StartRejoin(int rooms)
    {
        var activity = Source.StartActivity(RejoinSpan, ActivityKind.Internal, parentContext: default);
        activity?.SetTag(RoomCount, rooms);
        return activity;
    }

    /// <summary>Fetching a room's missed messages: under a rejoin, or a trace of its own when a live delivery went missing.</summary>
    public static Activity? StartGapFill(string room, string reason)
    {
        var activity = Source.StartActivity(GapFillSpan);
        activity?.SetTag(MessagingDestinationName, room);
        activity?.SetTag(GapReason, reason);
        return activity;
    }

    public static Activity? StartReceive(ChatMessage message, bool fromHistory)
    {
        var activity = Source.StartActivity(ReceiveSpan, ActivityKind.Consumer, MessageTraceContext.Parse(message.TraceParent));
        activity.SetMessaging("receive", message.Room, template: null, message.Id);
        activity?.SetTag(Sequence, message.Sequence);
        activity?.SetTag(Epoch, message.Epoch);
        activity?.SetTag(GapFill, fromHistory);
        return activity;
    }

    public static Activity? StartReceive(PrivateChatMessage message)
    {
        var activity = Source.StartActivity(ReceivePrivateSpan, ActivityKind.Consumer, MessageTraceContext.Parse(message.TraceParent));
        activity.SetMessaging("receive", room: null, template: null, message.Id);
        return activity;
    }

    public static void RejoinFailed(Exception error) => RejoinFailures.Add(error.GetType().Name);

    public static void ResumeFailed(Exception error) => ResumeFailures.Add(error.GetType().Name);

    public static void MessagesMissed(long count) => MissedMessages.Add(null, amount: count);

    public static void GapFilled(string reason) => GapFills.Add(reason);
}
