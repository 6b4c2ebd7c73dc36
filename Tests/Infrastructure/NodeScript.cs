using System.Diagnostics;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Runs a Node.js program to its end (killed past its time), its output and errors together for the test's report.</summary>
public static class NodeScript
{
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string workingDirectory, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo("node")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var run = Process.Start(startInfo)!;
        var output = run.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = run.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await run.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        }
        finally
        {
            if (!run.HasExited)
            {
                run.Kill(entireProcessTree: true);
            }
        }

        return (run.ExitCode, await output + await errors);
    }
}
