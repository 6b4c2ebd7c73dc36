namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Room and user names no other test uses, so tests can share a gateway cluster.</summary>
public static class Names
{
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
}
