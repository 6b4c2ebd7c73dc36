using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Clients;

/// <summary>
/// The JavaScript client's own tests (clients/js, Node's test runner): its rules without a server, then the package
/// against the system the AppHost starts with the dashboard on — the contract, trace context both ways checked
/// through the dashboard's telemetry API, a replica killed under a client, and its spans against docs/telemetry.md.
/// </summary>
public sealed class JavaScriptClientTests
{
    private static readonly string Package = Path.Combine(Repository.Root, "clients", "js");
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Its_rules_and_trace_context_hold_without_a_server()
    {
        await RunAsync(["--test", "--test-reporter=spec", .. Directory.EnumerateFiles(Path.Combine(Package, "test", "unit"), "*.test.js").Order()], TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task Against_the_system_it_keeps_the_contract_and_its_traces_run_through_the_gateway_every_replica_and_the_worker()
    {
        // Its own run: the suite kills a replica.
        await using var run = await AppHostRun.StartAsync(["Gateway:Replicas=2", "Redis:Mode=local"], _ct, dashboard: true);
        var (login, api) = await run.DashboardAsync(_ct);
        api.Dispose();
        var otlp = run.DashboardOtlpHttp();

        await RunAsync(["--test", "--test-reporter=spec", "test/system/system.test.js"], TimeSpan.FromMinutes(4), new Dictionary<string, string>
        {
            ["CHAT_GATEWAY_URL"] = run.Endpoint("realtime-gateway").ToString(),
            ["DASHBOARD_URL"] = login.GetLeftPart(UriPartial.Authority),
            ["DASHBOARD_API_KEY"] = run.DashboardApiKey ?? "",
            ["OTLP_ENDPOINT"] = otlp.Endpoint.ToString(),
            ["OTLP_API_KEY"] = otlp.ApiKey ?? "",
        });
    }

    private async Task RunAsync(IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        Assert.True(Directory.Exists(Path.Combine(Package, "node_modules")),
            "clients/js/node_modules is missing: run `npm ci` in clients/js (test.sh does).");
        var run = await Command.RunAsync("node", arguments, Package, _ct, environment, timeout);
        TestContext.Current.SendDiagnosticMessage(run.ToString());
        Assert.True(run.ExitCode == 0, $"node {string.Join(' ', arguments)} failed ({run})");
    }
}
