using System.Diagnostics;

namespace RealtimeDemo.Contracts.Telemetry;

/// <summary>
/// Trace context carried inside a message (the envelope), not beside it: a message passes through Redis
/// (stream entry, pub/sub channel) and SignalR's server-to-client frames, none of which carry headers the
/// next hop would read. W3C traceparent text, the same format HTTP uses.
/// </summary>
public static class MessageTraceContext
{
    /// <summary>The traceparent of <paramref name="activity"/>, or null when there is none.</summary>
    public static string? From(Activity? activity) => activity?.Id is { } id && activity.IdFormat == ActivityIdFormat.W3C ? id : null;

    /// <summary>The context a traceparent names, or default when it is missing or malformed.</summary>
    public static ActivityContext Parse(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;
}
