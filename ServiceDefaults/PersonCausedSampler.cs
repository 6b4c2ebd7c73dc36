using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Parent-based sampling that keeps the dashboard's trace list to what people do. A trace that would start with an
/// outgoing call (a CLIENT span: a Redis command, an HTTP request, a hub invocation) was started by background
/// work — a heartbeat, a timer, a poll — because whatever a person does starts with a server request or a UI event
/// that such calls join; dropped here, its context still travels (unsampled), so the services it calls drop their
/// side too. Background work that serves a person (a recovery, a replay) opens a span of its own and is kept.
/// Blazor Server's hub calls are the page's plumbing (a render acknowledgement per render): what a person does
/// there is Blazor's own event, navigation or circuit span, which starts its trace whatever call carried it.
/// </summary>
public sealed class PersonCausedSampler(Sampler roots) : Sampler
{
    private const string BlazorHub = "Microsoft.AspNetCore.Components.Server.ComponentHub";

    /// <summary>The span Blazor starts for each UI event it handles (a click, a submit, a key pressed).</summary>
    internal const string BlazorEvent = "Microsoft.AspNetCore.Components.HandleEvent";

    // Blazor makes these roots when it starts them, after sampling has looked at the hub call that carried them.
    private static readonly HashSet<string> BlazorPersonSpans =
    [
        BlazorEvent,
        "Microsoft.AspNetCore.Components.Navigate",
        "Microsoft.AspNetCore.Components.Server.Circuits.StartCircuit",
    ];

    private static readonly SamplingResult Sample = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);

    public override SamplingResult ShouldSample(in SamplingParameters parameters)
    {
        if (BlazorPersonSpans.Contains(parameters.Name))
        {
            return roots.ShouldSample(parameters);
        }

        if (parameters.ParentContext.TraceId != default)
        {
            return (parameters.ParentContext.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? Sample : Drop;
        }

        return parameters.Kind == ActivityKind.Client || IsBlazorHubCall(parameters) ? Drop : roots.ShouldSample(parameters);
    }

    private static bool IsBlazorHubCall(in SamplingParameters parameters)
    {
        foreach (var tag in parameters.Tags ?? [])
        {
            if (tag.Key == "rpc.service")
            {
                return tag.Value as string == BlazorHub;
            }
        }

        return false;
    }
}
