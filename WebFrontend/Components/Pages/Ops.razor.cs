namespace RealtimeDemo.WebFrontend.Components.Pages;

// The view polls every second: a failure is logged when a streak of them starts, and its end once it is over,
// not once a second per open tab.
public partial class Ops
{
    private FailureStreak? _polls;

    [Microsoft.AspNetCore.Components.Inject]
    private ILogger<Ops> Logger { get; set; } = null!;

    [Microsoft.AspNetCore.Components.Inject]
    private TimeProvider Time { get; set; } = null!;

    private FailureStreak Polls => _polls ??= new FailureStreak(Time);

    private void NoteRefreshed()
    {
        if (Polls.Succeeded() is { } outage)
        {
            LogBack(outage.Lasted.TotalSeconds, outage.Failures);
        }
    }

    private void NoteFailed(string reason)
    {
        if (Polls.Failed())
        {
            LogFailing(reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ops view could not refresh ({Reason}); it retries every second, and logs here when it has a snapshot again")]
    private partial void LogFailing(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The ops view has a snapshot again after {Seconds:F0} s ({Failed} polls failed)")]
    private partial void LogBack(double seconds, int failed);
}
