namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>What no answer to a client may contain, however bad its input.</summary>
public static class HostileInput
{
    private static readonly string[] Internals = ["Exception", "ChatHubError", "   at ", "System.", "Microsoft.", "StackExchange", "Redis.", ".cs:line"];

    public static void AssertNoInternals(string? answer)
    {
        foreach (var internals in Internals)
        {
            Assert.DoesNotContain(internals, answer ?? "", StringComparison.Ordinal);
        }
    }
}
