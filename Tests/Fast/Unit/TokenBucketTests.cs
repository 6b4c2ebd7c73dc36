using RealtimeDemo.RealtimeGateway.HubPipeline;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>A connection's allowance of sends: a burst, then the sustained rate.</summary>
public sealed class TokenBucketTests
{
    private const long Second = 1_000;

    [Fact]
    public void A_full_bucket_allows_its_burst_then_refuses_until_time_refills_it()
    {
        var bucket = new TokenBucket(capacity: 3, perSecond: 2, now: 0, frequency: Second);

        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(_ => bucket.TryTake(0)));
        Assert.False(bucket.TryTake(Second / 4));   // half a token so far
        Assert.True(bucket.TryTake(Second / 2));     // one token after half a second at 2/s
        Assert.False(bucket.TryTake(Second / 2));
    }

    [Fact]
    public void A_long_silence_refills_the_bucket_only_up_to_its_burst()
    {
        var bucket = new TokenBucket(capacity: 2, perSecond: 10, now: 0, frequency: Second);
        bucket.TryTake(0);
        bucket.TryTake(0);

        var allowed = Enumerable.Range(0, 5).Count(_ => bucket.TryTake(3_600 * Second));

        Assert.Equal(2, allowed);
    }
}
