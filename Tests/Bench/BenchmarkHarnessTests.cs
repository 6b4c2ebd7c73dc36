using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Bench;

/// <summary>
/// The benchmark harness's smoke run (bench/node/run.js smoke), so it never rots between benchmark runs: both
/// servers — the article's Socket.IO peer and the gateway — driven by the raw-protocol clients the benchmark
/// measures with and by the official JavaScript clients, and the bare-WebSocket floor by the raw ones, every
/// message acknowledged and delivered once.
/// </summary>
public sealed class BenchmarkHarnessTests
{
    [Fact]
    public async Task Smoke_run_delivers_every_message_on_both_servers_with_raw_and_official_clients()
    {
        var ct = TestContext.Current.CancellationToken;
        var harness = Path.Combine(Repository.Root, "bench", "node");
        Assert.True(Directory.Exists(Path.Combine(harness, "node_modules")),
            "bench/node/node_modules is missing: run `npm ci` in bench/node (test.sh and bench.sh do).");

        var run = await Command.RunAsync("node", ["run.js", "smoke", "--configuration", Repository.Configuration], harness, ct, timeout: TimeSpan.FromMinutes(3));
        Assert.True(run.ExitCode == 0, $"the smoke run failed ({run})");
        var report = run.Output;
        foreach (var line in new[] { "ok   peer-on W1:", "ok   peer-on W1-official:", "ok   ours-on W1:", "ok   ours-on W1-official:", "ok   websocket W1:" })
        {
            Assert.Contains(line, report);
        }

        Assert.Contains("smoke: every message delivered", report);
    }

    // Two such runs (16 and 14 minutes of machine) measured the bench's noise and were first read as leads.
    [Theory]
    [InlineData("DOTNET_gcServer=0", "the harness")]
    [InlineData("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0", "RealtimeGateway.runtimeconfig.json")]
    public async Task A_lead_that_only_sets_what_ours_already_runs_with_is_refused_before_anything_starts(string lead, string source)
    {
        var ct = TestContext.Current.CancellationToken;
        var harness = Path.Combine(Repository.Root, "bench", "node");
        var run = await Command.RunAsync("node", ["run.js", "lead", "--configuration", Repository.Configuration], harness, ct,
            new Dictionary<string, string> { ["BENCH_LEAD"] = lead }, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"BENCH_LEAD changes nothing ours runs with: {lead} (ours has it from {source})", run.Errors);
    }

    // A typo in the repeat count would otherwise start a run of the wrong length, or a profile that ignores it.
    [Theory]
    [InlineData("lead", "0")]
    [InlineData("lead", "eight")]
    [InlineData("quick", "8")]
    public async Task A_repeat_count_that_is_not_a_small_whole_number_for_a_repeating_profile_is_refused(string profile, string repeats)
    {
        var ct = TestContext.Current.CancellationToken;
        var harness = Path.Combine(Repository.Root, "bench", "node");
        var run = await Command.RunAsync("node", ["run.js", profile, "--configuration", Repository.Configuration], harness, ct,
            new Dictionary<string, string> { ["BENCH_REPEATS"] = repeats, ["BENCH_LEAD"] = "Chat__Limits__MaxRoomsPerConnection=7" }, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"BENCH_REPEATS: '{repeats}' must be a whole number from 1 to 20, with the compare, lead, warmup or memory profile (this is {profile})", run.Errors);
    }

    // A misspelt workload would otherwise start an hour's run that measures nothing, or one that silently runs all of them.
    [Theory]
    [InlineData("compare", "W4,W9", "BENCH_WORKLOADS: 'W4,W9' must name one or more of W0, W1, W2 and W4, separated by commas")]
    [InlineData("lead", "warm", "BENCH_WORKLOADS: 'warm' must name one or more of W0, W1, W2 and W4, separated by commas")]
    [InlineData("quick", "W4", "BENCH_WORKLOADS: only the lead and compare profiles take it (this is quick)")]
    public async Task A_workload_list_a_profile_cannot_run_is_refused_before_anything_starts(string profile, string workloads, string refusal)
    {
        var ct = TestContext.Current.CancellationToken;
        var harness = Path.Combine(Repository.Root, "bench", "node");
        var run = await Command.RunAsync("node", ["run.js", profile, "--configuration", Repository.Configuration], harness, ct,
            new Dictionary<string, string> { ["BENCH_WORKLOADS"] = workloads, ["BENCH_LEAD"] = "Chat__Limits__MaxRoomsPerConnection=7" }, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(refusal, run.Errors);
    }
}
