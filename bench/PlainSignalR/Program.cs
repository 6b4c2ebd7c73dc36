using Microsoft.AspNetCore.SignalR;

// A bare SignalR chat hub with the gateway's method names, so the load generator drives it unchanged:
// what SignalR costs on its own, with the stock Redis backplane when ConnectionStrings:redis is set.
var builder = WebApplication.CreateSlimBuilder(args);
var signalR = builder.Services.AddSignalR();
if (builder.Configuration.GetConnectionString("redis") is { Length: > 0 } redis)
{
    signalR.AddStackExchangeRedis(redis);
}

var app = builder.Build();
app.UseWebSockets();
app.MapHub<BareChatHub>("/hubs/chat", hub => hub.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets);
app.MapPost("/auth/token", (TokenRequest request) => new TokenResponse(request.UserName, DateTimeOffset.UtcNow.AddHours(1)));
app.Run();

/// <summary>Joins groups and broadcasts to them; the "token" is the user name (there is nothing to protect).</summary>
internal sealed class BareChatHub : Hub
{
    private static long s_nextId;

    private string User => Context.GetHttpContext()?.Request.Query["access_token"].ToString() ?? "";

    public async Task<object> JoinRoom(string room)
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, room);
        return new { room, members = Array.Empty<string>(), lastMessageId = (string?)null, lastSequence = 0 };
    }

    public Task LeaveRoom(string room) => Groups.RemoveFromGroupAsync(Context.ConnectionId, room);

    public async Task<object> SendMessage(string room, string clientMessageId, string text)
    {
        var id = Interlocked.Increment(ref s_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sentAt = DateTimeOffset.UtcNow;
        await Clients.Group(room).SendAsync("MessageReceived", new { id, room, user = User, text, sentAt, clientMessageId });
        return new { messageId = id, room, sentAt };
    }
}

internal sealed record TokenRequest(string UserName);

internal sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt);
