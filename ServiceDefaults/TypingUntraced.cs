using System.Diagnostics;
using OpenTelemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Blazor starts a trace for every UI event it handles, typing included: each key pressed in a box with an
/// <c>@oninput</c> handler, and each box left after an edit (<c>@bind</c>'s onchange), was a trace of one span — dozens
/// per private message typed, burying the clicks and submits that do something. Those events only edit the page's
/// state, so their spans are not recorded, and anything they might call is dropped with them (the sampler follows the
/// parent). <see cref="PersonCausedSampler"/> cannot tell them apart: Blazor names the event in the span's display name,
/// which it sets after sampling and before the start this processor sees.
/// </summary>
public sealed class TypingUntraced : BaseProcessor<Activity>
{
    // As Blazor names them: "Event oninput -> RealtimeDemo.WebFrontend.Components.Chat.SignIn.<BuildRenderTree>b__0".
    private static readonly string[] TypingEvents =
        [.. new[] { "oninput", "onchange", "onkeydown", "onkeyup", "onkeypress", "onfocus", "onblur", "onfocusin", "onfocusout" }
            .Select(name => $"Event {name} ")];

    public override void OnStart(Activity data)
    {
        if (data.Parent is null && data.OperationName == PersonCausedSampler.BlazorEvent
            && TypingEvents.Any(typing => data.DisplayName.StartsWith(typing, StringComparison.Ordinal)))
        {
            data.IsAllDataRequested = false;
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }
}
