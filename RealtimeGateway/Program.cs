using RealtimeDemo.RealtimeGateway.Extensions;

return StartupErrors.Run(() =>
{
    var builder = ServiceBuilder.Create(args);
    // Providers that share one scope store: the console and OpenTelemetry's (the service defaults). Every hub connection
    // keeps three scopes open for its life; the default Debug and EventSource providers would add a wrapper to each.
    builder.Logging.ClearProviders().AddConsole();

    builder.AddServiceDefaults();
    builder.AddChatGateway();

    var app = builder.Build();

    app.MapDefaultEndpoints();
    app.MapChatGateway();
    return app;
});
