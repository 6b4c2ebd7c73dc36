namespace RealtimeDemo.WebFrontend.Components.Pages;

// The view polls every second: a failure is logged when a streak of them starts, and its end once it is over,
// not once a second per open tab.
public partial class Ops
{
    private DateTimeOffset? _failingSince;
    private int _failedPolls;

    [Microsoft.AspNetCore.Components.Inject]
    private ILogger<Ops> Logger { get; set; } = null!;

    private void NoteRefreshed()
    {
        if (_failingSince is { } since)
        {
            LogBack((DateTimeOffset.UtcNow - since).TotalSeconds, _failedPolls);
            (_failingSince, _failedPolls) = (null, 0);
        }
    }

    private void NoteFailed(string reason)
    {
        _failedPolls++;
        if (_failingSince is null)
        {
            _failingSince = DateTimeOffset.UtcNow;
            LogFailing(reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ops view could not refresh ({Reason}); it retries every second, and logs here when it has a snapshot again")]
    private partial void LogFailing(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The ops view has a snapshot again after {Seconds:F0} s ({Failed} polls failed)")]
    private partial void LogBack(double seconds, int failed);
}
