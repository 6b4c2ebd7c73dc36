using System.Diagnostics;

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

    private static Process? Find(string replica)
    {
        foreach (var process in Process.GetProcesses())
        {
            try
            {
                var environment = File.ReadAllText($"/proc/{process.Id}/environ");
                if (environment.Contains($"service.instance.id={replica}", StringComparison.Ordinal)
                    && File.ReadAllText($"/proc/{process.Id}/cmdline").Contains("RealtimeGateway", StringComparison.Ordinal))
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
