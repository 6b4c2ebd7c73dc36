using System.Net;
using Microsoft.Extensions.Hosting;

namespace RealtimeDemo.Tests.Fast.Unit;

public sealed class ClientAddressRateLimitTests
{
    [Theory]
    // One subscriber's /64 is one bucket: a client cannot leave its limit by moving to the next address.
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    // An IPv4 client is the same client on a dual-stack socket.
    [InlineData("::ffff:192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    public void Addresses_share_a_bucket_only_when_they_are_one_client(string one, string other, bool shared)
    {
        var (a, b) = (ClientAddressRateLimit.PartitionOf(IPAddress.Parse(one)), ClientAddressRateLimit.PartitionOf(IPAddress.Parse(other)));

        Assert.Equal(shared, a == b);
    }
}
