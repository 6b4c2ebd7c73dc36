using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// Blazor keeps a circuit whose browser vanished without a word (killed, asleep, offline) for three minutes, in
/// case the tab comes back, and with it the tab's chat connection: its user would stay listed as present all that
/// time. After <see cref="FrontendOptions.AwayAfter"/> without the tab, the chat connection is paused (the others
/// see the user leave); when the tab is back, it resumes (rooms rejoined, missed messages shown). A tab closed or
/// reloaded normally ends its circuit at once and is not concerned.
/// </summary>
public sealed partial class AwayWhileTabIsGone(
    ChatSession session, TimeProvider time, IOptions<FrontendOptions> options, ILogger<AwayWhileTabIsGone> logger) : CircuitHandler, IDisposable
{
    // Cancelled at every change of the tab's connection: a pause not yet due, or a resume still retrying.
    private CancellationTokenSource _tabChange = new();

    public override Task OnConnectionDownAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        _ = PauseWhenStillGoneAsync(Renew());
        return Task.CompletedTask;
    }

    // Not awaited: the tab must not wait for its rooms to be rejoined before it is usable again.
    public override Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        _ = ResumeAsync(Renew());
        return Task.CompletedTask;
    }

    private async Task PauseWhenStillGoneAsync(CancellationToken tabChange)
    {
        try
        {
            await Task.Delay(options.Value.AwayAfter, time, tabChange);
            if (await session.PauseAsync())
            {
                LogPaused(options.Value.AwayAfter.TotalSeconds);
            }
        }
        catch (OperationCanceledException) when (tabChange.IsCancellationRequested)
        {
            // The tab came back (or was closed) in time.
        }
        catch (Exception ex)
        {
            LogPauseFailed(ex.GetType().Name);
        }
    }

    private async Task ResumeAsync(CancellationToken tabChange)
    {
        try
        {
            await session.ResumeAsync(tabChange);
        }
        catch (Exception) when (tabChange.IsCancellationRequested)
        {
            // Gone again, or closed, before the gateway answered (a cancelled connect may not end as a cancellation).
        }
    }

    private CancellationToken Renew()
    {
        var next = new CancellationTokenSource();
        var previous = Interlocked.Exchange(ref _tabChange, next);
        previous.Cancel();
        previous.Dispose();
        return next.Token;
    }

    public void Dispose() => _tabChange.Cancel();

    [LoggerMessage(Level = LogLevel.Information, Message = "A tab was gone for {Seconds} s: its chat connection is paused until it comes back")]
    private partial void LogPaused(double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pausing the chat connection of a tab that is gone failed ({Error})")]
    private partial void LogPauseFailed(string error);
}
