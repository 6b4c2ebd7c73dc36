using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using RealtimeDemo.Contracts.Telemetry;
using static RealtimeDemo.Contracts.Telemetry.ChatTelemetryAttributes;
using RealtimeDemo.ServerShared;

namespace RealtimeDemo.RealtimeGateway.Telemetry;

/// <summary>
/// The gateway's own spans and metrics (docs/telemetry.md). SignalR already traces every hub invocation,
/// connect and disconnect, and meters connections; this adds what it cannot know: message sends and
/// per-replica deliveries, room membership, refusals and why connections end.
/// </summary>
public sealed class GatewayTelemetry
{
    public const string Name = "RealtimeDemo.Gateway";


    public static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _rejected;
    private readonly Counter<long> _disconnects;
    private readonly Histogram<double> _invocationDuration;
    private readonly Counter<long> _accepted;
    private readonly Histogram<long> _messageSize;
    private readonly Histogram<long> _fanout;
    private readonly Histogram<double> _deliveryDuration;
    private readonly Counter<long> _deliveries;
    private readonly ObservedCounts _publishFailures;
    private long _backplaneReconnects;
    private readonly Histogram<double> _backplaneOutage;
    private readonly ObservedCounts _failures = new(ChatOperation, ErrorType, Operations.All);

    public GatewayTelemetry(IMeterFactory meters, ClusterSnapshot cluster, RoomTemplate rooms)
    {
        var meter = meters.Create(Name);
        _rejected = meter.CreateCounter<long>("chat.connections.rejected", "{connection}", "Connections refused before or at connect, by reason.");
        _disconnects = meter.CreateCounter<long>("chat.connections.closed", "{connection}", "Connections that ended, by reason.");
        _invocationDuration = meter.CreateHistogram<double>("chat.hub.invocation.duration", "s", "Hub method calls by method and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _accepted = meter.CreateCounter<long>("chat.messages.accepted", "{message}", "Room messages stored (resends of a stored message not counted).");
        // Buckets for what these measure: the SDK's defaults (0, 5, 10, 25, 50, 75, 100, 250, …) showed a room of six
        // as "10" and a 33-byte text as "50" on the dashboard.
        _messageSize = meter.CreateHistogram<long>("chat.message.size", "By", "UTF-8 size of accepted message texts.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048, 4096, 8192, 16384] });
        _fanout = meter.CreateHistogram<long>("chat.message.fanout", "{user}", "Room members (cluster-wide) when a message was accepted.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000, 10000] });
        _deliveryDuration = meter.CreateHistogram<double>("chat.message.delivery.duration", "s", "From a message's acceptance to its delivery to this replica's members.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5] });
        _deliveries = meter.CreateCounter<long>("chat.message.deliveries", "{delivery}", "Room messages written to this replica's connections.");
        _publishFailures = new(MessagingDestinationTemplate, null, rooms.Templates);
        meter.CreateObservableCounter("chat.backplane.publish.failures", _publishFailures.Observe, "{message}", "Accepted messages whose live publish failed (they reach members through the history).");
        // Observed, not added to, so that a replica whose subscription never dropped shows 0 (as StorageGeneration's).
        meter.CreateObservableCounter("chat.backplane.reconnects", () => Interlocked.Read(ref _backplaneReconnects), "{reconnect}", "Times this replica's Redis subscription came back after a drop.");
        _backplaneOutage = meter.CreateHistogram<double>("chat.backplane.outage.duration", "s", "How long this replica's Redis subscription was down.");
        meter.CreateObservableCounter("chat.background.failures", _failures.Observe, "{failure}", "Failures in work no caller waits for (deliveries, replays, cleanup), by operation and error type.");

        meter.CreateObservableGauge("chat.connections.cluster", () => cluster.Connections, "{connection}", "Connections across the cluster (registry).");
        meter.CreateObservableGauge("chat.rooms.active", () => cluster.ActiveRooms, "{room}", "Rooms with at least one member across the cluster (registry).");
        meter.CreateObservableGauge("chat.room.members", () => cluster.MembersByTemplate(), "{user}", "Members across the cluster by room template (registry).");
    }

    /// <summary>The instruments the ops view reads (<see cref="GatewayOpsStats"/>), so both show the same numbers.</summary>
    internal (Instrument Accepted, Instrument Deliveries, Instrument DeliveryDuration) OpsInstruments => (_accepted, _deliveries, _deliveryDuration);

    // One name per template, built once: the send and process spans are started for every message. Bounded by
    // the templates, which are configured (RoomTemplate), not made by traffic.
    private static readonly ConcurrentDictionary<string, string> SendSpans = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> ProcessSpans = new(StringComparer.Ordinal);

    public static string SendSpan(string template) => SendSpans.GetOrAdd(template, static t => $"send {t}");

    public static string ProcessSpan(string template) => ProcessSpans.GetOrAdd(template, static t => $"process {t}");

    public static string JoinSpan(string template) => $"join {template}";

    public static string LeaveSpan(string template) => $"leave {template}";

    public const string ReplaySpan = "replay missed deliveries";

    /// <summary>This replica puts its connections back into the registry (Redis lost its data, or another replica swept it).</summary>
    public const string RestoreRegistrySpan = "restore registry";

    /// <summary>This replica removes a dead replica's connections from the registry and tells their rooms.</summary>
    public const string SweepSpan = "remove dead replica";

    public const string UserTemplate = "user/{name}";

    /// <summary>The chat.operation values of chat.background.failures.</summary>
    public static class Operations
    {
        public const string Deliver = "deliver";
        public const string Disconnect = "disconnect";
        public const string Heartbeat = "heartbeat";
        public const string Replay = "replay";
        public const string RegistryCleanup = "registry_cleanup";
        public const string Unsubscribe = "unsubscribe";

        /// <summary>Each one is listed at 0 from a replica's start.</summary>
        public static readonly string[] All = [Deliver, Disconnect, Heartbeat, Replay, RegistryCleanup, Unsubscribe];
    }

    public void ConnectionRejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>(RejectionReason, reason));

    public void ConnectionClosed(string reason) => _disconnects.Add(1, new KeyValuePair<string, object?>(DisconnectReason, reason));

    public void InvocationCompleted(string method, string outcome, string? errorType, string? template, TimeSpan duration)
    {
        var tags = new TagList { { RpcMethod, method }, { Outcome, outcome } };
        if (errorType is not null)
        {
            tags.Add(ErrorType, errorType);
        }

        if (template is not null)
        {
            tags.Add(MessagingDestinationTemplate, template);
        }

        _invocationDuration.Record(duration.TotalSeconds, tags);
    }

    public void MessageAccepted(string template, long bodyBytes, int members)
    {
        var tag = new KeyValuePair<string, object?>(MessagingDestinationTemplate, template);
        _accepted.Add(1, tag);
        _messageSize.Record(bodyBytes, tag);
        _fanout.Record(members, tag);
    }

    public void Delivered(string template, int recipients, TimeSpan sinceAccepted)
    {
        var tag = new KeyValuePair<string, object?>(MessagingDestinationTemplate, template);
        _deliveries.Add(recipients, tag);
        _deliveryDuration.Record(Math.Max(0, sinceAccepted.TotalSeconds), tag);
    }

    public void PublishFailed(string template) => _publishFailures.Add(template);

    /// <summary>Counts a failure of work that runs on its own (a Redis callback, a timer, a stop), which nothing else would report.</summary>
    public void BackgroundFailed(string operation, Exception error) => _failures.Add(operation, error.GetType().Name);

    public void BackplaneRestored(TimeSpan outage)
    {
        Interlocked.Increment(ref _backplaneReconnects);
        _backplaneOutage.Record(outage.TotalSeconds);
    }
}
