using RealtimeDemo.ChatWorker.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddChatWorker();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
