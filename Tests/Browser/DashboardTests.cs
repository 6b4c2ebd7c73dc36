using RealtimeDemo.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Browser;

/// <summary>The system with the Aspire dashboard on, read through the dashboard's telemetry API as a person would see it.</summary>
public sealed class DashboardSession : BrowserSession
{
    protected override bool WithDashboard => true;
}

/// <summary>
/// Every trace in the dashboard is a person's action (or a fault the system recovered from), and a chat message
/// links to its own trace: the click, the hub call, the store, every replica with members, every receiving
/// client and the worker.
/// </summary>
public sealed class DashboardTests(DashboardSession browser) : IClassFixture<DashboardSession>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_idle_system_with_a_chat_page_and_the_ops_view_open_starts_no_trace()
    {
        var (_, api) = await browser.Run.DashboardAsync(_ct);
        using var _ = api;
        var chat = await browser.SignInAsync(Unique("idle"));
        var ops = await chat.Context.NewPageAsync();
        await ops.GotoAsync(new Uri(browser.Frontend, "/ops").ToString());
        await Expect(ops.Locator("[data-testid=gateway-row]")).ToHaveCountAsync(2, new() { Timeout = 30_000 });

        // What the sign-in and the two pages caused has been exported (Redis spans come last, within ~1 s).
        await Task.Delay(TimeSpan.FromSeconds(15), _ct);
        var before = await TraceIdsAsync(api);
        await Task.Delay(TimeSpan.FromSeconds(60), _ct);
        var after = await TraceIdsAsync(api);

        var started = after.Keys.Except(before.Keys).ToList();
        Assert.True(started.Count == 0,
            $"{started.Count} traces started while nobody did anything: {string.Join("; ", started.Take(10).Select(id => after[id]))}");
        await Expect(ops.Locator("[data-testid=cluster-connections]")).Not.ToHaveTextAsync("0"); // the ops view was live all along
    }

    [Fact]
    public async Task Typing_in_the_pages_boxes_starts_no_trace_and_sending_starts_one()
    {
        var (_, api) = await browser.Run.DashboardAsync(_ct);
        using var _ = api;
        var carol = await browser.SignInAsync(Unique("carol"));
        await Task.Delay(TimeSpan.FromSeconds(10), _ct); // what the sign-in caused has been exported
        var before = await TraceIdsAsync(api);

        // Key by key, as a person types: each key is an input event, and each box left after an edit a change event.
        await carol.Locator("[data-testid=private-to]").PressSequentiallyAsync("nobody-by-this-name");
        await carol.Locator("[data-testid=room-input]").PressSequentiallyAsync("a-room-not-joined");
        await carol.Locator("[data-testid=private-text]").PressSequentiallyAsync("typed, and not yet sent");
        await Task.Delay(TimeSpan.FromSeconds(5), _ct);
        var typed = await TraceIdsAsync(api);
        var started = typed.Keys.Except(before.Keys).Select(id => typed[id]).ToList();
        Assert.True(started.Count == 0, $"{started.Count} traces started by typing: {string.Join("; ", started.Take(10))}");

        // The send is an action: its trace is there (the recipient does not exist, which the page says).
        await carol.Locator("[data-testid=private-text]").PressAsync("Enter");
        await Expect(carol.Locator("[data-testid=private-error]")).ToBeVisibleAsync();
        await Eventually.HoldsAsync(async () =>
        {
            var after = await TraceIdsAsync(api);
            return after.Keys.Except(typed.Keys).Any(id => after[id].StartsWith("webfrontend: Event onsubmit", StringComparison.Ordinal));
        }, Patience, "the send's trace");
    }

    [Fact]
    public async Task A_message_links_to_its_trace_which_holds_the_click_the_store_every_replica_every_client_and_the_worker()
    {
        var (login, api) = await browser.Run.DashboardAsync(_ct);
        using var _ = api;
        var alice = await browser.SignInAsync(Unique("alice"));
        var replica = await alice.TextContentAsync("[data-testid=replica]");
        var bob = await browser.SignInAwayFromAsync(Unique("bob"), replica!);
        var text = $"follow me {Guid.NewGuid():N}";

        await BrowserSession.SendAsync(alice, text);

        var message = bob.Locator("[data-testid=message]", new() { HasText = text });
        await Expect(message).ToBeVisibleAsync();
        var link = message.Locator("[data-testid=trace-link]");
        await Expect(link).ToHaveCSSAsync("opacity", "1"); // seen without hovering: a touch screen has no hover
        var href = await link.GetAttributeAsync("href");
        Assert.NotNull(href);
        Assert.StartsWith(login.GetLeftPart(UriPartial.Authority), href);
        var traceId = href.Split('/')[^1];

        IReadOnlyList<DashboardSpan> spans = [];
        try
        {
            await Eventually.HoldsAsync(async () =>
            {
                spans = await DashboardTelemetry.TraceAsync(api, traceId, _ct);
                return spans.Any(s => s.Service == "webfrontend" && s.Name.StartsWith("Event ") && s.ParentSpanId is null)
                    && spans.Any(s => s.Service == "realtime-gateway" && s.Name.EndsWith("ChatHub/SendMessage"))
                    && spans.Any(s => s.Service == "realtime-gateway" && s.Name == "send room/lobby")
                    && spans.Any(s => s.Service == "realtime-gateway" && s.Attributes.ContainsKey("db.system"))
                    && spans.Where(s => s.Service == "realtime-gateway" && s.Name == "process room/lobby").Select(s => s.Instance).Distinct().Count() == 2
                    && spans.Count(s => s.Service == "webfrontend" && s.Name == "receive room/{name}") >= 2
                    && spans.Any(s => s.Service == "chat-worker" && s.Name == "process room/lobby");
            }, Patience, "the whole trace");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Trace {traceId} holds only: {DashboardTelemetry.Describe(spans)}");
        }

        Assert.Single(spans, s => s.ParentSpanId is null); // one trace, one root: the person's click
        await BrowserSession.ScreenshotDashboardAsync(alice.Context, login, $"/traces/detail/{traceId}", "dashboard-message-trace");
        await BrowserSession.ScreenshotDashboardAsync(alice.Context, login, "/traces", "dashboard-traces");
    }

    [Fact]
    public async Task A_private_message_links_to_its_trace_which_holds_the_click_the_send_the_recipients_replica_and_page()
    {
        var (login, api) = await browser.Run.DashboardAsync(_ct);
        using var _ = api;
        var alice = await browser.SignInAsync(Unique("alice"));
        var bob = await browser.SignInAwayFromAsync(Unique("bob"), (await alice.TextContentAsync("[data-testid=replica]"))!);
        var bobName = (await bob.TextContentAsync("[data-testid=user]"))!; // the sign-in may have taken a few names to land there
        var text = $"just for you {Guid.NewGuid():N}";

        await alice.FillAsync("[data-testid=private-to]", bobName);
        await alice.FillAsync("[data-testid=private-text]", text);
        await alice.ClickAsync("button:has-text('Send privately')");

        // Sent (the gateway acknowledged it), then received on the other replica.
        await Expect(alice.Locator("[data-testid=private-message]", new() { HasText = $"to {bobName}" })).ToBeVisibleAsync();
        var message = bob.Locator("[data-testid=private-message]", new() { HasText = text });
        await Expect(message).ToBeVisibleAsync();
        var traceId = (await message.Locator("[data-testid=trace-link]").GetAttributeAsync("href"))!.Split('/')[^1];
        // The sender's copy links to the same trace (it had no link).
        var sent = alice.Locator("[data-testid=private-message]", new() { HasText = text });
        Assert.Equal(traceId, (await sent.Locator("[data-testid=trace-link]").GetAttributeAsync("href"))?.Split('/')[^1]);
        IReadOnlyList<DashboardSpan> spans = [];
        try
        {
            await Eventually.HoldsAsync(async () =>
            {
                spans = await DashboardTelemetry.TraceAsync(api, traceId, _ct);
                return spans.Any(s => s.Service == "webfrontend" && s.Name.StartsWith("Event ") && s.ParentSpanId is null)
                    && spans.Any(s => s.Service == "realtime-gateway" && s.Name.EndsWith("ChatHub/SendPrivateMessage"))
                    && spans.Any(s => s.Service == "realtime-gateway" && s.Name == "send user/{name}")
                    && spans.Any(s => s.Service == "realtime-gateway" && s.Name == "process user/{name}")
                    && spans.Any(s => s.Service == "webfrontend" && s.Name == "receive user/{name}");
            }, Patience, "the private message's trace");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Trace {traceId} holds only: {DashboardTelemetry.Describe(spans)}");
        }

        // Only the replica holding Bob's connection wrote it (every replica hears the publish), and the text is in no span.
        Assert.Single(spans, s => s.Name == "process user/{name}");
        Assert.DoesNotContain(spans, s => s.Attributes.Values.Any(v => v?.Contains(text, StringComparison.Ordinal) == true));
        Assert.Single(spans, s => s.ParentSpanId is null);
        await BrowserSession.ScreenshotDashboardAsync(bob.Context, login, $"/traces/detail/{traceId}", "dashboard-private-message-trace");
    }

    private async Task<Dictionary<string, string>> TraceIdsAsync(HttpClient api)
    {
        var spans = await DashboardTelemetry.SpansAsync(api, "/api/telemetry/spans?limit=10000", _ct);
        return spans.GroupBy(s => s.TraceId).ToDictionary(g => g.Key, g =>
            g.FirstOrDefault(s => s.ParentSpanId is null) is { } root ? $"{root.Service}: {root.Name}" : $"{g.First().Service}: {g.First().Name} (no root yet)");
    }
}
