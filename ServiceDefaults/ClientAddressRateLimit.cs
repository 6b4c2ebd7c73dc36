using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A token bucket per client address, for requests a person's browser makes now and then and a script could make in a
/// loop (the gateway's sign-ins, the frontend's Blazor negotiates).
/// </summary>
public static class ClientAddressRateLimit
{
    /// <summary>
    /// <paramref name="burst"/> at once, then <paramref name="tokensPerPeriod"/> each <paramref name="period"/>. Each bucket
    /// refills on a timer of its own (AutoReplenishment), not on the partitioned limiter's shared one as
    /// RateLimitPartition.GetTokenBucketLimiter makes it: that one refills by the time since the bucket's last refill,
    /// which a full bucket does not move on, so a client quiet for a while got its burst and, within 100 ms, another
    /// (111 to 178 Blazor negotiates where the burst is 100). The timer goes with the bucket, an idle one after 10 s.
    /// </summary>
    public static RateLimitPartition<string> TokenBucket(HttpContext context, int burst, int tokensPerPeriod, TimeSpan period) =>
        RateLimitPartition.Get(PartitionOf(context.Connection.RemoteIpAddress), _ => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>
    /// An IPv4 address as it is; an IPv6 address by its /64, which one subscriber usually holds whole: a bucket per
    /// IPv6 address would give one client 2^64 buckets, and the limiter one entry for each it used.
    /// </summary>
    public static string PartitionOf(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return $"{new IPAddress(bytes)}/64";
    }

    /// <summary>Tells a refused client when its next request will be taken (whole seconds, at least one).</summary>
    public static void SetRetryAfter(OnRejectedContext rejected)
    {
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }
}
