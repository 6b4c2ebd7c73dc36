using RealtimeDemo.ChatWorker.Extensions;
using RealtimeDemo.ServerShared;

return StartupErrors.Run(() =>
{
    var builder = ServiceBuilder.Create(args);

    builder.AddServiceDefaults();
    builder.AddChatWorker();

    var app = builder.Build();

    app.MapDefaultEndpoints();
    app.MapDrain();
    return app;
});
