using System.Diagnostics;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// What the hub filters keep about one connection, on this replica's own record of it (LocalConnections) rather
/// than in SignalR's <c>Items</c>: that is a concurrent dictionary of ~0.45 KB, created for every connection by its
/// first entry (bench/findings.md). SignalR calls one connection's hub methods one at a time.
/// </summary>
public sealed class ConnectionNotes
{
    /// <summary>The connection's connect span, which every later span of the connection links to; default when not traced.</summary>
    public ActivityContext ConnectSpan { get; set; }

    /// <summary>The disconnect span, which the cleanup after it (rooms left, in the lifetime manager) belongs to.</summary>
    public ActivityContext DisconnectSpan { get; set; }

    /// <summary>The connection's message-rate bucket, made at its first send.</summary>
    internal TokenBucket? Messages { get; set; }

    /// <summary>The connection's read bucket (items returned), made at its first read.</summary>
    internal TokenBucket? Reads { get; set; }

    /// <summary>The connection's join-and-leave bucket, made at its first join.</summary>
    internal TokenBucket? RoomChanges { get; set; }
}
