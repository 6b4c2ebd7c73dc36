using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace RealtimeDemo.AppHost.Redis;

/// <summary>Asks this machine: does the container runtime answer, and where is redis-server?</summary>
public sealed class MachineRedisHostingProbe(IConfiguration configuration) : IRedisHostingProbe
{
    // 'docker info' answers within a tenth of a second when the engine runs and fails fast when it does not;
    // the bound only guards against a hung engine.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    public bool ContainerRuntimeIsHealthy()
    {
        var runtime = configuration["ASPIRE_CONTAINER_RUNTIME"] ?? configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"] ?? "docker";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null)
            {
                return false;
            }

            // Drain both pipes so a chatty 'info' cannot block on a full buffer.
            var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
            if (!process.WaitForExit(ProbeTimeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            drain.Wait(ProbeTimeout);
            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false; // not installed
        }
    }

    public string? FindRedisServer()
    {
        var configured = configuration["Redis:ServerPath"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        var path = configuration["PATH"] ?? Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "redis-server"))
            .FirstOrDefault(File.Exists);
    }
}
