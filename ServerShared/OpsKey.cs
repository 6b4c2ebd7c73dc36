using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.ServerShared;

/// <summary>The ops access key (Ops:AccessKey), which the AppHost generates and gives to whoever operates the replicas.</summary>
public static class OpsKey
{
    /// <summary>Whether the request carries the configured key in the X-Ops-Key header (never true when no key is configured).</summary>
    public static bool IsPresented(HttpContext context)
    {
        var key = context.RequestServices.GetRequiredService<IConfiguration>()["Ops:AccessKey"];
        var offered = context.Request.Headers[ChatHubPaths.OpsKeyHeader].ToString();
        return !string.IsNullOrEmpty(key) && offered.Length > 0
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(offered), Encoding.UTF8.GetBytes(key));
    }
}
