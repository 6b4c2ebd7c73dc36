using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// Limits the Blazor negotiates (POST /_blazor/negotiate) per client address (Frontend:ConnectsPerSecondPerAddress):
/// each keeps a connection's state for 15 s, used or not. Everything else passes unlimited.
/// </summary>
public static class ConnectRateLimit
{
    public static IServiceCollection AddConnectRateLimit(this IServiceCollection services) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (rejected, cancellationToken) =>
            {
                ClientAddressRateLimit.SetRetryAfter(rejected);
                return new ValueTask(PlainTextAnswer.RefuseAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests,
                    "Too many connections opened from this address (Frontend:ConnectsPerSecondPerAddress); wait a moment and reload."));
            };
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!context.Request.Path.StartsWithSegments(PageRequests.NegotiatePath))
                {
                    return RateLimitPartition.GetNoLimiter("");
                }

                var perSecond = context.RequestServices.GetRequiredService<IOptions<FrontendOptions>>().Value.ConnectsPerSecondPerAddress;
                return ClientAddressRateLimit.TokenBucket(context, burst: 10 * perSecond, tokensPerPeriod: perSecond, TimeSpan.FromSeconds(1));
            });
        });
}
