// The floor under the benchmark's .NET figures: Kestrel's WebSockets answering, by hand, the few records of the
// SignalR JSON hub protocol the load generator sends (the handshake, JoinRoom, LeaveRoom, SendMessage, pings). No
// SignalR, no backplane, no telemetry, no authentication: what a .NET WebSocket server holds per idle connection
// and spends per delivery before any framework is added. Not a server to copy: it checks nothing a client sends.
var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();
app.UseWebSockets();
var rooms = new Rooms();
app.Map("/hubs/chat", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await new BareConnection(socket, context.Request.Query["access_token"].ToString(), rooms).RunAsync();
});
app.Run();
