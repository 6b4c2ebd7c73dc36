using System.Text.Json;
using Microsoft.Playwright;
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

        // What the sign-in and the two pages caused has been exported (Redis spans come last, every ~10 s).
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
        var href = await message.Locator("[data-testid=trace-link]").GetAttributeAsync("href");
        Assert.NotNull(href);
        Assert.StartsWith(login.GetLeftPart(UriPartial.Authority), href);
        var traceId = href.Split('/')[^1];

        IReadOnlyList<Span> spans = [];
        try
        {
            await Eventually.HoldsAsync(async () =>
            {
                spans = await TraceAsync(api, traceId);
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
            Assert.Fail($"Trace {traceId} holds only: {string.Join(", ", spans.Select(s => $"{s.Service}/{s.Instance}: {s.Name}"))}");
        }

        Assert.Single(spans, s => s.ParentSpanId is null); // one trace, one root: the person's click
        await ScreenshotDashboardAsync(alice.Context, login, $"/traces/detail/{traceId}", "dashboard-message-trace");
        await ScreenshotDashboardAsync(alice.Context, login, "/traces", "dashboard-traces");
    }

    private async Task<Dictionary<string, string>> TraceIdsAsync(HttpClient api)
    {
        var spans = await SpansAsync(api, "/api/telemetry/spans?limit=10000");
        return spans.GroupBy(s => s.TraceId).ToDictionary(g => g.Key, g =>
            g.FirstOrDefault(s => s.ParentSpanId is null) is { } root ? $"{root.Service}: {root.Name}" : $"{g.First().Service}: {g.First().Name} (no root yet)");
    }

    private Task<IReadOnlyList<Span>> TraceAsync(HttpClient api, string traceId) => SpansAsync(api, $"/api/telemetry/traces/{traceId}");

    /// <summary>The spans of an answer of the dashboard's telemetry API (OTLP JSON).</summary>
    private async Task<IReadOnlyList<Span>> SpansAsync(HttpClient api, string path)
    {
        using var response = await api.GetAsync(path, _ct);
        if (!response.IsSuccessStatusCode)
        {
            return [];
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(_ct));
        var spans = new List<Span>();
        foreach (var resource in document.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var attributes = Attributes(resource.GetProperty("resource"));
            var service = attributes.GetValueOrDefault("service.name") ?? "";
            var instance = attributes.GetValueOrDefault("service.instance.id");
            foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
            {
                foreach (var span in scope.GetProperty("spans").EnumerateArray())
                {
                    var parent = span.TryGetProperty("parentSpanId", out var p) && p.GetString() is { Length: > 0 } id ? id : null;
                    spans.Add(new Span(service, instance, span.GetProperty("traceId").GetString()!, parent, span.GetProperty("name").GetString()!, Attributes(span)));
                }
            }
        }

        return spans;
    }

    private static Dictionary<string, string?> Attributes(JsonElement element) =>
        element.TryGetProperty("attributes", out var attributes)
            ? attributes.EnumerateArray().ToDictionary(
                a => a.GetProperty("key").GetString()!,
                a => (string?)a.GetProperty("value").EnumerateObject().FirstOrDefault().Value.ToString())
            : [];

    private static async Task ScreenshotDashboardAsync(IBrowserContext context, Uri login, string path, string name)
    {
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1600, 1000);
        await page.GotoAsync(login.ToString());
        await page.GotoAsync(new Uri(login, path).ToString());
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.WaitForTimeoutAsync(2000);
        await BrowserSession.ScreenshotAsync(page, name);
        await page.CloseAsync();
    }

    private sealed record Span(string Service, string? Instance, string TraceId, string? ParentSpanId, string Name, IReadOnlyDictionary<string, string?> Attributes);
}
