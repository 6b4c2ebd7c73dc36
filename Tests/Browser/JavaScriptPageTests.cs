using RealtimeDemo.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Browser;

/// <summary>
/// The frontend's JavaScript page (/js) in Chromium: the JavaScript client in a browser, its spans exported to the
/// dashboard over OTLP/HTTP. A message sent there is one trace rooted in the browser's span.
/// </summary>
public sealed class JavaScriptPageTests(DashboardSession browser) : IClassFixture<DashboardSession>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_message_sent_there_is_one_trace_rooted_in_the_browser_through_the_gateway_every_replica_the_worker_and_every_client()
    {
        var (login, api) = await browser.Run.DashboardAsync(_ct);
        using var _ = api;
        var page = await browser.SignInToJavaScriptPageAsync(Unique("alice-js"));
        await Expect(page.Locator("#telemetry")).ToContainTextAsync("Spans go to the Aspire dashboard");
        var replica = await page.TextContentAsync("[data-testid=replica]");
        var bob = await browser.SignInAwayFromAsync(Unique("bob"), replica!); // a Blazor page on the other replica
        var text = $"from the browser {Guid.NewGuid():N}";

        await page.FillAsync("[data-testid=message-input]", text);
        await page.PressAsync("[data-testid=message-input]", "Enter");

        var sent = page.Locator("[data-testid=message]", new() { HasText = text });
        await Expect(sent).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=outgoing]")).ToHaveCountAsync(0); // its line retired by the room's delivery
        await Expect(bob.Locator("[data-testid=message]", new() { HasText = text })).ToBeVisibleAsync();
        var traceId = await sent.GetAttributeAsync("data-trace-id");
        Assert.NotNull(traceId);
        Assert.Equal(new Uri(login, $"/traces/detail/{traceId}").ToString(), await sent.Locator("a").GetAttributeAsync("href"));

        IReadOnlyList<DashboardSpan> spans = [];
        try
        {
            await Eventually.HoldsAsync(async () =>
            {
                spans = await DashboardTelemetry.TraceAsync(api, traceId, _ct);
                return spans.Any(s => s.Service == "webfrontend-browser" && s.Name == "send room/{name}")
                    && spans.Any(s => s.Service == "realtime-gateway" && s.Name.EndsWith("ChatHub/SendMessage"))
                    && spans.Any(s => s.Service == "realtime-gateway" && s.Name == "send room/lobby")
                    && spans.Where(s => s.Service == "realtime-gateway" && s.Name == "process room/lobby").Select(s => s.Instance).Distinct().Count() == 2
                    && spans.Any(s => s.Service == "chat-worker" && s.Name == "process room/lobby")
                    && spans.Any(s => s.Service == "webfrontend" && s.Name == "receive room/{name}")
                    && spans.Any(s => s.Service == "webfrontend-browser" && s.Name == "receive room/{name}");
            }, Patience, "the whole trace");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Trace {traceId} holds only: {DashboardTelemetry.Describe(spans)}");
        }

        var root = Assert.Single(spans, s => s.ParentSpanId is null);
        Assert.Equal(("webfrontend-browser", "send room/{name}"), (root.Service, root.Name));
        Assert.Equal(root.SpanId, spans.Single(s => s.Name.EndsWith("ChatHub/SendMessage")).ParentSpanId);
        var processes = spans.Where(s => s.Name == "process room/lobby" && s.Service == "realtime-gateway").Select(s => s.SpanId).ToList();
        Assert.All(spans.Where(s => s.Name == "receive room/{name}"), receive => Assert.Contains(receive.ParentSpanId!, processes));
        TestContext.Current.SendDiagnosticMessage($"Trace {traceId}: {DashboardTelemetry.Describe(spans)}");

        await BrowserSession.ScreenshotAsync(page, "javascript-page");
        await BrowserSession.ScreenshotDashboardAsync(page.Context, login, $"/traces/detail/{traceId}", "dashboard-browser-message-trace");

        // A text the gateway refuses (nothing visible in it) is said so; Edit takes it back into the input, after what
        // is typed there, to be mended (Retry would send it as it is, under the same id).
        const string invisible = "\u200B";
        await page.FillAsync("[data-testid=message-input]", invisible);
        await page.PressAsync("[data-testid=message-input]", "Enter");
        var refused = page.Locator("[data-testid=outgoing]");
        await Expect(refused).ToContainTextAsync("not sent: ");
        await Expect(refused).ToContainTextAsync("visible character");
        await Expect(refused.Locator("[data-testid=retry]")).ToBeVisibleAsync();
        await page.FillAsync("[data-testid=message-input]", "typed meanwhile");
        await refused.Locator("[data-testid=edit]").ClickAsync();
        await Expect(refused).ToHaveCountAsync(0);
        Assert.Equal($"typed meanwhile {invisible}", await page.InputValueAsync("[data-testid=message-input]"));
    }

    [Fact]
    public async Task The_newest_message_stays_in_view_as_the_list_fills_unless_the_person_scrolled_up()
    {
        var page = await browser.SignInToJavaScriptPageAsync(Unique("dora-js"));
        var prefix = $"line {Guid.NewGuid():N}";
        for (var i = 1; i <= 30; i++) // more than the list's height holds
        {
            await page.FillAsync("[data-testid=message-input]", $"{prefix} {i}");
            await page.PressAsync("[data-testid=message-input]", "Enter");
            await Expect(page.Locator("[data-testid=message]", new() { HasText = $"{prefix} {i}" })).ToHaveCountAsync(1);
        }

        await Expect(page.Locator("[data-testid=message]", new() { HasText = $"{prefix} 30" })).ToBeInViewportAsync();

        // Scrolled up to read: what arrives does not pull the list away from it.
        await page.EvalOnSelectorAsync("[data-testid=messages]", "list => list.scrollTop = 0");
        await page.FillAsync("[data-testid=message-input]", $"{prefix} 31");
        await page.PressAsync("[data-testid=message-input]", "Enter");
        await Expect(page.Locator("[data-testid=message]", new() { HasText = $"{prefix} 31" })).ToHaveCountAsync(1);
        Assert.Equal(0, await page.EvalOnSelectorAsync<int>("[data-testid=messages]", "list => list.scrollTop"));
    }
}
