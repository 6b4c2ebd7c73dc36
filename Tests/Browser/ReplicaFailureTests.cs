using System.Globalization;
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
        await Expect(alice.Locator("[data-testid=connection-silent]")).ToHaveCountAsync(0); // a crash is noticed at once
        await BrowserSession.ScreenshotAsync(alice, "chat-after-replica-failure");
        TestContext.Current.SendDiagnosticMessage($"The page showed the break {noticedAfter.TotalMilliseconds:F0} ms after the kill.");
    }

    [Fact]
    public async Task A_frozen_replica_is_shown_silent_since_its_last_word_not_as_a_break_of_a_moment()
    {
        var alice = await _browser.SignInAsync(Unique("alice"));
        var replica = await alice.TextContentAsync("[data-testid=replica]");

        var frozenAt = DateTimeOffset.UtcNow;
        GatewayProcesses.Freeze(replica!, true);
        try
        {
            // A send into the silence waits for an answer that cannot come. Its failure at the timeout (SignalR's
            // TimeoutException) once escaped the page's handler: the circuit died and the page's unsent messages with it.
            await BrowserSession.SendAsync(alice, "sent into the silence");
            // Nothing tells the page that the replica froze: its client notices once its server timeout (30 s) has
            // run out. The page said "lost at" that moment and "back after 0.1 s", hiding the 30 s it heard nothing.
            await Expect(alice.Locator("[data-testid=connection-silent]")).ToBeVisibleAsync(new() { Timeout = 45_000 });
            await Expect(alice.Locator("[data-testid=outgoing]", new() { HasText = "sent into the silence" }).Locator("[data-testid=retry]")).ToBeVisibleAsync();
        }
        finally
        {
            GatewayProcesses.Freeze(replica!, false);
        }

        // The times shown, as the page also gives them in its attributes (the shown ones are in the server's culture).
        var lostAt = DateTimeOffset.Parse((await alice.GetAttributeAsync("[data-testid=connection-break]", "data-lost-at"))!, CultureInfo.InvariantCulture);
        var silentSince = DateTimeOffset.Parse((await alice.GetAttributeAsync("[data-testid=connection-silent]", "data-since"))!, CultureInfo.InvariantCulture);
        Assert.InRange((lostAt - silentSince).TotalSeconds, 29.9, 30.1);
        // The last thing the replica sent came before the freeze, at most a keep-alive interval (15 s) before it.
        Assert.InRange((frozenAt - silentSince).TotalSeconds, -2, 16); // (noticed a little after the timeout ran out)
        await Expect(alice.Locator("[data-testid=connection-back]")).ToBeVisibleAsync(new() { Timeout = 45_000 });
        // Thawed, the replica may still store what it had read before it froze (the room's echo then takes the failed
        // line's place); if not, Retry sends it again under the same client message id. Either way it shows once.
        try
        {
            await alice.ClickAsync("[data-testid=retry]", new() { Timeout = 5_000 });
        }
        catch (TimeoutException)
        {
            // The echo came first: nothing to retry.
        }

        await Expect(alice.Locator("[data-testid=outgoing]")).ToHaveCountAsync(0);
        await Expect(alice.Locator("[data-testid=message]", new() { HasText = "sent into the silence" })).ToHaveCountAsync(1);
        await BrowserSession.ScreenshotAsync(alice, "chat-after-replica-freeze");
    }

    [Fact]
    public async Task On_the_javascript_page_each_send_a_frozen_replica_left_unanswered_keeps_its_retry_and_shows_once()
    {
        var page = await _browser.SignInToJavaScriptPageAsync(Unique("carol-js"));
        var replica = await page.TextContentAsync("[data-testid=replica]");
        string[] texts = ["first into the silence", "second into the silence"];

        GatewayProcesses.Freeze(replica!, true);
        try
        {
            foreach (var text in texts)
            {
                await page.FillAsync("[data-testid=message-input]", text);
                await page.PressAsync("[data-testid=message-input]", "Enter");
            }

            // The page notices at its client's server timeout (30 s), says why, and each unanswered send keeps a
            // line with its own Retry (the page had one status line: the second send took the first's Retry away).
            await Expect(page.Locator("[data-testid=connection-break]", new() { HasText = $"Connection to replica {replica} lost" }))
                .ToContainTextAsync("nothing came from it since", new() { Timeout = 45_000 });
            foreach (var text in texts)
            {
                var line = page.Locator("[data-testid=outgoing]", new() { HasText = text });
                await Expect(line).ToContainTextAsync("failed: the connection broke before the gateway answered");
                await Expect(line.Locator("[data-testid=retry]")).ToBeVisibleAsync();
            }
        }
        finally
        {
            GatewayProcesses.Freeze(replica!, false);
        }

        // Back where the proxy sent a try: another replica, or this one once thawed (a try that met it frozen waits 3 s).
        await Expect(page.Locator("[data-testid=connection-back]")).ToBeVisibleAsync(new() { Timeout = 45_000 });
        Assert.Contains($"back on replica {await page.TextContentAsync("[data-testid=replica]")} after", await page.TextContentAsync("[data-testid=connection-back]"));
        // Thawed, the replica may still store what it had read before it froze (the room's echo then retires the
        // line); else Retry sends it again under the same client message id. Either way each shows once.
        foreach (var text in texts)
        {
            try
            {
                await page.Locator("[data-testid=outgoing]", new() { HasText = text }).Locator("[data-testid=retry]").ClickAsync(new() { Timeout = 5_000 });
            }
            catch (TimeoutException)
            {
                // The echo came first: nothing to retry.
            }
        }

        await Expect(page.Locator("[data-testid=outgoing]")).ToHaveCountAsync(0);
        foreach (var text in texts)
        {
            await Expect(page.Locator("[data-testid=message]", new() { HasText = text })).ToHaveCountAsync(1);
        }

        await BrowserSession.ScreenshotAsync(page, "javascript-page-after-replica-freeze");
    }
}
