namespace RealtimeDemo.Contracts;

public static class ConnectionNames
{
    /// <summary>The AppHost's Redis resource; its connection string arrives as ConnectionStrings:redis.</summary>
    public const string Redis = "redis";

    /// <summary>The AppHost's gateway resource; its URL arrives as services:realtime-gateway:http:0.</summary>
    public const string Gateway = "realtime-gateway";

    /// <summary>The AppHost's worker resource.</summary>
    public const string Worker = "chat-worker";
}
