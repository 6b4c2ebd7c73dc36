using static Microsoft.Playwright.Assertions;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Browser;

/// <summary>The gateway replica under a signed-in page is scaled in by the `scale` command (its own AppHost run).</summary>
public sealed class ScaleInTests : IAsyncLifetime
{
    private const string Gateway = "realtime-gateway";
    private readonly BrowserSession _browser = new();
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => _browser.InitializeAsync();

    public ValueTask DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task The_page_on_a_replica_that_is_scaled_in_shows_reconnecting_then_everything_nothing_twice()
    {
        // A scale-in stops the newest instances: the one a scale to 3 starts is the one the scale back to 2 stops.
        var before = await RunningAsync();
        Assert.True((await _browser.Run.ScaleAsync(Gateway, "3", _ct)).Success);
        var newest = Assert.Single((await RunningAsync()).Except(before))[(Gateway.Length + 1)..];
        var alice = await _browser.SignInOnAsync(Unique("alice"), newest);
        var bob = await _browser.SignInAwayFromAsync(Unique("bob"), newest);
        await BrowserSession.SendAsync(bob, "before the scale-in");
        await Expect(alice.Locator("[data-testid=message]", new() { HasText = "before the scale-in" })).ToBeVisibleAsync();

        var scaleIn = _browser.Run.ScaleAsync(Gateway, "2", _ct);
        await Expect(alice.Locator("[data-testid=connection-break]", new() { HasText = $"Connection to replica {newest} lost" }))
            .ToBeVisibleAsync(new() { Timeout = 5_000 });
        // The gateway's reason, as it gave it with its close.
        await Expect(alice.Locator("[data-testid=connection-reason]")).ToHaveTextAsync(
            ": This gateway replica is shutting down (drained or stopped); the connection moves to another replica as the client reconnects");
        var result = await scaleIn;
        Assert.True(result.Success, result.Message);
        for (var i = 1; i <= 5; i++)
        {
            await BrowserSession.SendAsync(bob, $"after the scale-in {i}");
        }

        await BrowserSession.ExpectBackWithEveryMessageOnceAsync(alice, newest,
            ["before the scale-in", .. Enumerable.Range(1, 5).Select(i => $"after the scale-in {i}")], ["before", "after"], timeout: 10_000);
        await BrowserSession.ScreenshotAsync(alice, "chat-after-scale-in");
    }

    private async Task<HashSet<string>> RunningAsync() =>
        (await _browser.Run.InstancesAsync(Gateway, _ct)).Where(i => i.Value == "Running").Select(i => i.Key).ToHashSet();
}
