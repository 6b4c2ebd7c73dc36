namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A loop that retries while Redis is away logs the outage once, not once a try: its first failure, then, when a try
/// succeeds again, how long the outage lasted and how many tries failed. (A two-minute outage wrote a warning every
/// second or five, per loop and process; the ops view polled once a second per open tab.) Used from one loop at a time.
/// </summary>
public sealed class FailureStreak(TimeProvider time)
{
    private bool _failing;
    private long _since;
    private int _failures;

    /// <summary>Whether the last try failed (read from other threads too: a moment stale at worst).</summary>
    public bool Failing => Volatile.Read(ref _failing);

    /// <summary>Notes a failed try; true when it is the first of a streak, the one to log.</summary>
    public bool Failed()
    {
        _failures++;
        if (_failing)
        {
            return false;
        }

        (_failing, _since) = (true, time.GetTimestamp());
        return true;
    }

    /// <summary>Notes a try that succeeded; the streak it ends (how long it lasted, how many tries failed), if one was running.</summary>
    public (TimeSpan Lasted, int Failures)? Succeeded()
    {
        if (!_failing)
        {
            return null;
        }

        var ended = (time.GetElapsedTime(_since), _failures);
        (_failing, _failures) = (false, 0);
        return ended;
    }
}
