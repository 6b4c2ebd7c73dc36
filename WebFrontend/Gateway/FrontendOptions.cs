using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>How much one browser tab's chat keeps, whatever the traffic or how long the tab stays open; section "Frontend".</summary>
public sealed class FrontendOptions : IValidatableObject
{
    public const string Section = "Frontend";

    /// <summary>Messages shown per room; older ones drop off the top and come back on demand ("Show older").</summary>
    [Range(10, 10_000)]
    public int MessagesPerRoom { get; set; } = 200;

    /// <summary>The most a room shows after asking for older messages.</summary>
    [Range(10, 100_000)]
    public int MaxMessagesPerRoom { get; set; } = 1000;

    [Range(10, 10_000)]
    public int PrivateMessagesKept { get; set; } = 200;

    /// <summary>Names listed per room (the gateway lists at most 500 at a time).</summary>
    [Range(10, 10_000)]
    public int MembersShown { get; set; } = 500;

    /// <summary>Sent messages tracked per room until the room echoes them.</summary>
    [Range(10, 10_000)]
    public int OutgoingKept { get; set; } = 100;

    /// <summary>
    /// How long a tab may be gone (its browser killed, asleep or offline) before its chat connection is paused and
    /// the others see its user leave; Blazor itself keeps the tab's state for three minutes in case it comes back.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:03:00")]
    public TimeSpan AwayAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether /ops shows the cluster (read with this frontend's own ops access key) to whoever opens this frontend.
    /// Off unless set: behind a public ingress that would hand every visitor what the gateway keeps for operators.
    /// The AppHost turns it on for a local run.
    /// </summary>
    public bool OpsView { get; set; }

    /// <summary>
    /// Blazor connections (negotiates) one address may open per second, in bursts of ten times this: each negotiate
    /// keeps a connection's state for 15 s even if never used, so a loop of them would grow this process's memory.
    /// </summary>
    [Range(1, 10_000)]
    public int ConnectsPerSecondPerAddress { get; set; } = 10;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MessagesPerRoom > MaxMessagesPerRoom)
        {
            yield return new ValidationResult($"{Section}:{nameof(MessagesPerRoom)} ({MessagesPerRoom}) cannot be more than {Section}:{nameof(MaxMessagesPerRoom)} ({MaxMessagesPerRoom}), the most a room shows.", [nameof(MessagesPerRoom)]);
        }
    }
}

[OptionsValidator]
internal sealed partial class FrontendOptionsValidator : IValidateOptions<FrontendOptions>;
