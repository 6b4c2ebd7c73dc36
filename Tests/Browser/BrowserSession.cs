using Microsoft.Playwright;
using RealtimeDemo.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace RealtimeDemo.Tests.Browser;

/// <summary>
/// The system started by the AppHost (2 gateway replicas unless a subclass says otherwise) and Debian's Chromium,
/// headless, driven by Playwright — never a downloaded browser (this machine has no internet).
/// </summary>
public class BrowserSession : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public AppHostRun Run { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri Frontend => Run.Endpoint("webfrontend");

    /// <summary>Whether the Aspire dashboard runs too (it receives every service's telemetry).</summary>
    protected virtual bool WithDashboard => false;

    /// <summary>How many gateway replicas the AppHost starts.</summary>
    protected virtual int GatewayReplicas => 2;

    public static string ScreenshotDirectory { get; } = Directory.CreateDirectory(Path.Combine(Repository.Root, "artifacts", "screenshots")).FullName;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing; the README's test command installs it (apt-get install chromium).");
        }

        Run = await AppHostRun.StartAsync([$"Gateway:Replicas={GatewayReplicas}", "Redis:Mode=local"], TestContext.Current.CancellationToken, WithDashboard);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser profile (its own circuit and gateway connection), signed in as <paramref name="user"/>.</summary>
    public async Task<IPage> SignInAsync(string user)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 800 } });
        var page = await context.NewPageAsync();
        var console = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Console += (_, message) => console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {message.Type}: {message.Text}");
        // A reload between the typing and the click (the reconnect dialog's script reloads a page whose circuit the
        // server refused) would leave an empty form to submit: each load is written down with the console.
        page.Load += (_, _) => console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} page loaded");
        await page.GotoAsync(Frontend.ToString());
        await page.FillAsync("[data-testid=user-name-input]", user);
        console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} name typed");
        await page.ClickAsync("button:has-text('Sign in')");
        console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} sign-in clicked");
        // Longer than the sign-in's own 30 s: a sign-in the page gave up on fails the test with the page's sentence.
        await page.WaitForSelectorAsync("[data-testid=current-room]:has-text('lobby'), [data-testid=error]", new() { Timeout = 45_000 });
        if (await page.Locator("[data-testid=error]").CountAsync() > 0)
        {
            // What the box held when the page refused it, and a picture: one CI run saw a valid name refused as invalid.
            var screenshot = Path.Combine(ScreenshotDirectory, $"sign-in-failed-{user}.png");
            await page.ScreenshotAsync(new() { Path = screenshot });
            throw new InvalidOperationException($"The sign-in failed: {await page.Locator("[data-testid=error]").TextContentAsync()} " +
                $"(typed '{user}'; the box holds '{await page.InputValueAsync("[data-testid=user-name-input]")}'; {screenshot}); the page's console:" +
                $"{Environment.NewLine}{string.Join(Environment.NewLine, console)}{Environment.NewLine}The frontend's console, its last lines:" +
                $"{Environment.NewLine}{await Run.ConsoleTailAsync("webfrontend", 40, TestContext.Current.CancellationToken)}");
        }

        await page.WaitForSelectorAsync("[data-testid=current-room]:has-text('lobby')");
        return page;
    }

    /// <summary>The JavaScript client's page (/js) in a fresh browser profile, signed in as <paramref name="user"/> and connected.</summary>
    public async Task<IPage> SignInToJavaScriptPageAsync(string user)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 800 } });
        var page = await context.NewPageAsync();
        var console = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Console += (_, message) => console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {message.Type}: {message.Text}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {response.Status}: {response.Request.Method} {response.Url}");
            }
        };
        page.RequestFailed += (_, request) => console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} request failed: {request.Method} {request.Url} {request.Failure}");
        await page.GotoAsync(new Uri(Frontend, "/js").ToString());
        await page.FillAsync("[data-testid=user-name-input]", user);
        console.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} sign in");
        await page.ClickAsync("button:has-text('Sign in')");
        try
        {
            // Longer than a sign-in's own 30 s (the first one on a freshly started system, with other test classes
            // starting processes beside it, took more than the 5 s an expectation waits by default).
            await Assertions.Expect(page.Locator("[data-testid=connection-state]")).ToHaveTextAsync("Connected", new() { Timeout = 45_000 });
        }
        catch (PlaywrightException ex)
        {
            throw new InvalidOperationException($"The /js page did not connect; its console:{Environment.NewLine}{string.Join(Environment.NewLine, console)}", ex);
        }

        await Assertions.Expect(page.Locator("[data-testid=replica]")).Not.ToBeEmptyAsync();
        await Assertions.Expect(page.Locator("#sign-in")).ToBeHiddenAsync(); // signed in: no second sign-in to click
        // A browser's hub URL carries the token, and SignalR's logging at its default level wrote that URL to the console.
        // (The browser's own line for a WebSocket that did not open, a try given up at a frozen replica, names its URL
        // whatever the page does: it opens one WebSocket to a host at a time, so the next try waits until that one is closed.)
        Assert.DoesNotContain(console, line => line.Contains("access_token", StringComparison.Ordinal)
            && !line.Contains(": WebSocket connection to '", StringComparison.Ordinal));
        return page;
    }

    /// <summary>The proxy balances per connection: signs in (each time as a new user like <paramref name="user"/>) until a page lands on a replica other than <paramref name="replica"/>.</summary>
    public Task<IPage> SignInAwayFromAsync(string user, string replica) => SignInWhereAsync(user, landed => landed != replica, attempts: 20);

    /// <summary>Signs in (each time as a new user like <paramref name="user"/>) until a page lands on <paramref name="replica"/>.</summary>
    public Task<IPage> SignInOnAsync(string user, string replica) => SignInWhereAsync(user, landed => landed == replica, attempts: 40);

    private async Task<IPage> SignInWhereAsync(string user, Func<string?, bool> wanted, int attempts)
    {
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            var page = await SignInAsync($"{user}{attempt}");
            if (wanted(await page.TextContentAsync("[data-testid=replica]")))
            {
                return page;
            }

            await page.Context.CloseAsync();
        }

        throw new InvalidOperationException($"None of {attempts} sign-ins landed on the replica wanted.");
    }

    /// <summary>
    /// Types <paramref name="text"/> into the box, submits its form, and types <paramref name="next"/> in its place, all in
    /// one go in the page: the next message is in the box before the server has answered the send.
    /// </summary>
    public static Task SendAndTypeOnAsync(IPage page, string box, string text, string next) => page.EvaluateAsync("""
        ([selector, text, next]) => {
          const box = document.querySelector(selector);
          const type = (value) => {
            box.value = value;
            box.dispatchEvent(new Event('input', { bubbles: true }));
            box.dispatchEvent(new Event('change', { bubbles: true }));
          };
          type(text);
          box.form.requestSubmit();
          type(next);
        }
        """, new[] { box, text, next });

    /// <summary>Types and sends, then waits until the page shows the message (sending, stored or received), as a person would.</summary>
    public static async Task SendAsync(IPage page, string text)
    {
        await page.FillAsync("[data-testid=message-input]", text);
        await page.PressAsync("[data-testid=message-input]", "Enter");
        await page.Locator("[data-testid=messages] li", new() { HasText = text }).First.WaitForAsync();
    }

    /// <summary>
    /// After its connection broke: the page is connected again, says so, sits on a replica other than
    /// <paramref name="lostReplica"/>, and shows <paramref name="expected"/> (its messages starting with one of
    /// <paramref name="prefixes"/>) in order, each once.
    /// </summary>
    public static async Task ExpectBackWithEveryMessageOnceAsync(IPage page, string lostReplica, IReadOnlyList<string> expected, string[] prefixes, float timeout)
    {
        await Expect(page.Locator("[data-testid=connection-state].connected")).ToBeVisibleAsync(new() { Timeout = timeout });
        await Expect(page.Locator("[data-testid=connection-back]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=message]", new() { HasText = expected[^1] })).ToBeVisibleAsync();
        Assert.NotEqual(lostReplica, await page.TextContentAsync("[data-testid=replica]"));
        var texts = await page.Locator("[data-testid=message] .text").AllTextContentsAsync();
        Assert.Equal(expected, texts.Where(t => prefixes.Any(p => t.StartsWith(p, StringComparison.Ordinal))));
        var ids = await page.Locator("[data-testid=message]").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.messageId)");
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, $"{name}.png") });

    /// <summary>The dashboard's page at <paramref name="path"/>, signed in through its login URL, saved as a screenshot.</summary>
    public static async Task ScreenshotDashboardAsync(IBrowserContext context, Uri login, string path, string name)
    {
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1600, 1000);
        await page.GotoAsync(login.ToString());
        await page.GotoAsync(new Uri(login, path).ToString());
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.WaitForTimeoutAsync(2000);
        await ScreenshotAsync(page, name);
        await page.CloseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Run is not null)
        {
            await Run.DisposeAsync();
        }
    }
}

[CollectionDefinition(Collection)]
public sealed class BrowserCollection : ICollectionFixture<BrowserSession>
{
    public const string Collection = "browser";
}
