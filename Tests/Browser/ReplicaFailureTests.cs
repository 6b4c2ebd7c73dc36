using RealtimeDemo.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Browser;

/// <summary>A gateway replica dies under a signed-in page (its own AppHost run: the killed replica stays dead).</summary>
public sealed class ReplicaFailureTests : IAsyncLifetime
{
    private readonly BrowserSession _browser = new();

    public ValueTask InitializeAsync() => _browser.InitializeAsync();

    public ValueTask DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task The_page_shows_reconnecting_comes_back_and_misses_or_doubles_nothing()
    {
        var alice = await _browser.SignInAsync(Unique("alice"));
        var replica = await alice.TextContentAsync("[data-testid=replica]");
        var bob = await _browser.SignInAwayFromAsync(Unique("bob"), replica!); // bob keeps chatting through the crash
        await BrowserSession.SendAsync(bob, "before the crash");
        await Expect(alice.Locator("[data-testid=message]", new() { HasText = "before the crash" })).ToBeVisibleAsync();

        var killedAt = DateTime.UtcNow;
        GatewayProcesses.Kill(replica!);
        // A person sees that the connection broke within 5 s, even when the reconnect is quicker than a render.
        await Expect(alice.Locator("[data-testid=connection-break]", new() { HasText = $"Connection to replica {replica} lost" }))
            .ToBeVisibleAsync(new() { Timeout = 5_000 });
        var noticedAfter = DateTime.UtcNow - killedAt;
        for (var i = 1; i <= 5; i++)
        {
            await BrowserSession.SendAsync(bob, $"while alice is away {i}");
        }

        await BrowserSession.ExpectBackWithEveryMessageOnceAsync(alice, replica!,
            ["before the crash", .. Enumerable.Range(1, 5).Select(i => $"while alice is away {i}")], ["before", "while"], timeout: 45_000);
        await BrowserSession.ScreenshotAsync(alice, "chat-after-replica-failure");
        TestContext.Current.SendDiagnosticMessage($"The page showed the break {noticedAfter.TotalMilliseconds:F0} ms after the kill.");
    }
}
