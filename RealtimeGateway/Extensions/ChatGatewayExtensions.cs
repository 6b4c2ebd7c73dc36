using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;

namespace Microsoft.Extensions.Hosting;

public static class ChatGatewayExtensions
{
    /// <summary>The chat hub, its Redis backplane and the services behind it.</summary>
    public static IHostApplicationBuilder AddChatGateway(this IHostApplicationBuilder builder)
    {
        builder.AddChatBackplane();
        builder.Services.AddSingleton<IChatHubService, ChatHubService>();
        return builder;
    }

    public static WebApplication MapChatGateway(this WebApplication app)
    {
        app.MapHub<ChatHub>(ChatHubPaths.Hub);
        return app;
    }
}
