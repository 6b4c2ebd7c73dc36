using RealtimeDemo.RealtimeGateway.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddChatGateway();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapChatGateway();

app.Run();
