using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

public static class GatewayClientExtensions
{
    /// <summary>Tokens and ops snapshots from the gateway over HTTP (Aspire service discovery), one hub connection per Blazor circuit.</summary>
    public static IHostApplicationBuilder AddGatewayClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(GatewayAddress.FromConfiguration(builder.Configuration));
        builder.Services.AddOptions<FrontendOptions>().BindConfiguration(FrontendOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<FrontendOptions>, FrontendOptionsValidator>();
        builder.Services.AddHttpClient<GatewayTokens>(http => http.BaseAddress = new Uri($"http://{ConnectionNames.Gateway}"));
        builder.Services.AddHttpClient<OpsClient>(http => http.BaseAddress = new Uri($"http://{ConnectionNames.Gateway}"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DashboardLinks>();
        builder.Services.AddScoped<ChatSession>();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, AwayWhileTabIsGone>();
        return builder;
    }
}
