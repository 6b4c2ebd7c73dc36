using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace RealtimeDemo.WebFrontend.Gateway;

public static class GatewayClientExtensions
{
    /// <summary>Tokens and ops snapshots from the gateway over HTTP, one hub connection per Blazor circuit.</summary>
    public static IHostApplicationBuilder AddGatewayClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(GatewayAddress.FromConfiguration(builder.Configuration));
        builder.Services.AddSettings<FrontendOptions>(FrontendOptions.Section);
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<FrontendOptions>, FrontendOptionsValidator>();
        // The address the hub connections use, so that Gateway:Url (without the AppHost's service discovery) serves both.
        // A token request the proxy hands to a frozen replica is never answered: the standard handler's 10 s a try
        // and 2 s, 4 s… between tries took most of a sign-in's patience, while a live replica answers in
        // milliseconds. Its circuit breaker, shared by every sign-in, would fail them all for a while once a tenth
        // of them met the frozen one; and a 429 (too many sign-ins) is an answer for the person, not to be retried.
        // (Removing the default handler is marked experimental in Microsoft.Extensions.Http.Resilience 10; it is the documented way.)
#pragma warning disable EXTEXP0001
        builder.Services.AddHttpClient<GatewayTokens>((services, http) => http.BaseAddress = services.GetRequiredService<GatewayAddress>().BaseUrl)
            .RemoveAllResilienceHandlers()
            .AddResilienceHandler("gateway-tokens", pipeline => pipeline
                .AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = 5,
                    Delay = TimeSpan.FromMilliseconds(250),
                    BackoffType = DelayBackoffType.Constant,
                    ShouldRetryAfterHeader = false, // a reconnect asks without a deadline: no wait the server names
                    ShouldHandle = attempt => ValueTask.FromResult(attempt.Outcome.Exception is HttpRequestException or TimeoutRejectedException
                        || attempt.Outcome.Result?.StatusCode is HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError),
                })
                .AddTimeout(TimeSpan.FromSeconds(3)));
        // The view asks again every second: the standard retries (up to 30 s a request) only held an answer back.
        builder.Services.AddHttpClient<OpsClient>((services, http) =>
        {
            http.BaseAddress = services.GetRequiredService<GatewayAddress>().BaseUrl;
            http.Timeout = TimeSpan.FromSeconds(5);
        }).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddConnectRateLimit();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new DashboardLinks(builder.Configuration)); // now: a bad Dashboard:Url stops the start
        builder.Services.AddScoped<ChatSession>();
        builder.Services.AddScoped<Components.Chat.TabMemory>();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, AwayWhileTabIsGone>();
        builder.Services.AddScoped<TabConnection>();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler>(services => services.GetRequiredService<TabConnection>());
        return builder;
    }
}
