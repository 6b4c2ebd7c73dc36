using System.Diagnostics;
using System.Globalization;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Finds the gateway replica processes the AppHost started, by the service.instance.id Aspire gave each.</summary>
public static class GatewayProcesses
{
    /// <summary>Kills the replica (SIGKILL), as a crash would.</summary>
    public static void Kill(string replica)
    {
        using var process = Find(replica) ?? throw new InvalidOperationException($"No RealtimeGateway process has service.instance.id={replica}.");
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>Freezes (SIGSTOP) or thaws (SIGCONT) the replica: alive, but silent, as a stalled VM would be.</summary>
    public static void Freeze(string replica, bool frozen)
    {
        // The server itself, not the `dotnet run` that may have launched it (which has the same environment).
        using var process = Find(replica, serverOnly: true) ?? throw new InvalidOperationException($"No RealtimeGateway server process has service.instance.id={replica}.");
        using var signal = Process.Start("kill", [frozen ? "-STOP" : "-CONT", process.Id.ToString(CultureInfo.InvariantCulture)]);
        signal.WaitForExit();
    }

    private static Process? Find(string replica, bool serverOnly = false)
    {
        foreach (var process in Process.GetProcesses())
        {
            try
            {
                var environment = File.ReadAllText($"/proc/{process.Id}/environ");
                if (environment.Contains($"service.instance.id={replica}", StringComparison.Ordinal)
                    && File.ReadAllText($"/proc/{process.Id}/cmdline") is var command && command.Contains("RealtimeGateway", StringComparison.Ordinal)
                    && (!serverOnly || command.Split('\0')[0].EndsWith("/RealtimeGateway", StringComparison.Ordinal)))
                {
                    return process;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours.
            }

            process.Dispose();
        }

        return null;
    }
}
