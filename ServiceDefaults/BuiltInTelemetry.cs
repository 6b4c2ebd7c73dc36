namespace Microsoft.Extensions.Hosting;

// Telemetry the platform already emits and that we only switch on (see docs: never a second span for the same thing).
public static class BuiltInTelemetry
{
    public static readonly string[] ActivitySources =
    [
        "Microsoft.AspNetCore.SignalR.Server",   // one span per hub invocation, rpc.* tags
        "Microsoft.AspNetCore.SignalR.Client",   // client invocation spans; injects traceparent
        "Microsoft.AspNetCore.Components",       // Blazor circuits, navigation, event handlers
        "Microsoft.AspNetCore.Components.Server.Circuits",
    ];

    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Http.Connections",  // signalr.server.active_connections, connection.duration
        "Microsoft.AspNetCore.Components",
        "Microsoft.AspNetCore.Components.Lifecycle",
        "Microsoft.AspNetCore.Components.Server.Circuits",
        TelemetryQueueDrops.SdkMeter,             // the OpenTelemetry SDK's own: spans and log records dropped before export
    ];
}
