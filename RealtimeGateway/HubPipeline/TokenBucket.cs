namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>A connection's allowance of sends: refilled from elapsed time when asked, so idle connections cost no timer.</summary>
internal sealed class TokenBucket(int capacity, double perSecond, long now, long frequency)
{
    private double _tokens = capacity;
    private long _last = now;

    public bool TryTake(long timestamp)
    {
        lock (this)
        {
            _tokens = Math.Min(capacity, _tokens + (timestamp - _last) * perSecond / frequency);
            _last = timestamp;
            if (_tokens < 1)
            {
                return false;
            }

            _tokens--;
            return true;
        }
    }

    /// <summary>
    /// Takes more after a call that was let through with one (what it cost is known only once it has run); the
    /// allowance may go below zero, and the next call then waits for it to refill.
    /// </summary>
    public void TakeMore(int count)
    {
        lock (this)
        {
            _tokens -= count;
        }
    }
}
