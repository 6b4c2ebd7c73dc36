using RealtimeDemo.Contracts;
using RealtimeDemo.WebFrontend.Gateway;

namespace Microsoft.Extensions.Hosting;

public static class GatewayClientExtensions
{
    /// <summary>One gateway connection per Blazor circuit, at the gateway URL Aspire injects.</summary>
    public static IHostApplicationBuilder AddGatewayClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(GatewayAddress.FromConfiguration(builder.Configuration));
        builder.Services.AddScoped<ChatConnection>();
        return builder;
    }
}
