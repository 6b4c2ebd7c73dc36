using System.Collections.Concurrent;
using System.Diagnostics;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// One of the solution's services started as a real process from its build output, on its own loopback
/// port, and killed with its process tree on dispose.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly ProcessStartInfo _startInfo;
    private readonly ConcurrentQueue<string> _output = new();
    private Process _process = null!;

    private readonly StreamWriter _log;

    private ServiceProcess(ProcessStartInfo startInfo, Uri baseAddress, string project)
    {
        _startInfo = startInfo;
        BaseAddress = baseAddress;
        var directory = Directory.CreateDirectory(Path.Combine(Repository.Root, "artifacts", "test-logs")).FullName;
        LogPath = Path.Combine(directory, $"{DateTime.UtcNow:HHmmss}-{project}-{baseAddress.Port}.log");
        _log = new StreamWriter(LogPath) { AutoFlush = true };
    }

    /// <summary>Everything the process wrote, kept after the test for a look at what went wrong.</summary>
    public string LogPath { get; }

    public Uri BaseAddress { get; }

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string RecentOutput => string.Join(Environment.NewLine, _output);

    /// <summary>Everything the process wrote so far (its whole log, however chatty it was).</summary>
    public string Output
    {
        get
        {
            lock (_log)
            {
                using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
                return reader.ReadToEnd();
            }
        }
    }

    /// <summary>The last lines of the log with their times, stack frames left out: what a failure message needs to show a slow stop or a race.</summary>
    public string LogTail(int lines = 40) => string.Join(Environment.NewLine,
        Output.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => !line.TrimStart().StartsWith("at ", StringComparison.Ordinal)
            && !line.Contains("--- End of", StringComparison.Ordinal)).TakeLast(lines));

    /// <param name="untilHealthy">Whether to wait until /health answers (false: a service started while what it needs is away).</param>
    public static async Task<ServiceProcess> StartAsync(string project, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken,
        bool untilHealthy = true)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Repository.ServiceAssembly(project), "--urls", baseAddress.ToString() },
            WorkingDirectory = Path.Combine(Repository.Root, project),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        var service = new ServiceProcess(startInfo, baseAddress, project);
        await service.StartProcessAsync(cancellationToken, untilHealthy);
        return service;
    }

    /// <summary>Kills the process the way a crash would (SIGKILL): no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>The process's exit code once it has exited (0 for a clean stop), else null.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Asks the process to stop (SIGTERM), as an orchestrator or Ctrl+C would, and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Freezes (SIGSTOP) or thaws (SIGCONT) the process: alive, but silent, as a long GC pause or a stuck VM would be.</summary>
    public void Freeze(bool frozen)
    {
        using var signal = Process.Start("kill", [frozen ? "-STOP" : "-CONT", _process.Id.ToString()]);
        signal.WaitForExit();
    }

    /// <summary>Starts the process again with the same settings (but <paramref name="changes"/>), on the same port.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? changes = null)
    {
        await KillAsync();
        foreach (var (name, value) in changes ?? new Dictionary<string, string>())
        {
            _startInfo.Environment[name] = value;
        }

        _process.Dispose();
        await StartProcessAsync(cancellationToken);
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken, bool untilHealthy = true)
    {
        _process = Process.Start(_startInfo)!;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (untilHealthy)
        {
            await WaitUntilHealthyAsync(cancellationToken);
        }
    }

    private async Task WaitUntilHealthyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                if ((await http.GetAsync("/health", cancellationToken)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new InvalidOperationException($"{_process.StartInfo.ArgumentList[0]} did not become healthy at {BaseAddress} (log: {LogPath}):{Environment.NewLine}{RecentOutput}");
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            // The services log without times; the file gets them, to read a slow stop or a race afterwards.
            _log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }

        _output.Enqueue(line);
        while (_output.Count > 200)
        {
            _output.TryDequeue(out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
