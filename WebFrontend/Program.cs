using RealtimeDemo.WebFrontend.Components;
using RealtimeDemo.WebFrontend.Gateway;
using RealtimeDemo.WebFrontend.JavaScriptPage;

return StartupErrors.Run(() =>
{
    var builder = ServiceBuilder.Create(args);

    builder.AddServiceDefaults();
    builder.AddGatewayClient();
    builder.Services.AddRazorComponents()
        .AddInteractiveServerComponents();

    var app = builder.Build();

    // In every environment: Development's exception page would show a visitor a stack trace.
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
    app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
    app.UsePageMethodsThenRouting();
    app.UseAntiforgery();
    app.UseRateLimiter();
    app.UseLiveConnectionRefusalsInOurWords();
    app.UseOpsViewOnlyWhereOn();

    app.MapStaticAssets();
    app.MapRazorComponents<App>()
        .AddInteractiveServerRenderMode();
    app.MapJavaScriptPage();
    app.MapDefaultEndpoints();
    return app;
});
