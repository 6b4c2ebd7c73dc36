namespace RealtimeDemo.Contracts;

public static class ChatHubPaths
{
    /// <summary>Where the gateway maps the chat hub.</summary>
    public const string Hub = "/hubs/chat";
}
