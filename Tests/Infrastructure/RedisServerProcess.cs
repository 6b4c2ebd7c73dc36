using System.Diagnostics;
using StackExchange.Redis;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>A real redis-server on a free loopback port with its own data directory, stopped and removed on dispose.</summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("realtimedemo-test-redis-").FullName;
    private Process? _process;

    private RedisServerProcess(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServerProcess> StartAsync(CancellationToken cancellationToken)
    {
        var server = new RedisServerProcess(FreePort.Next());
        await server.StartProcessAsync(cancellationToken);
        return server;
    }

    /// <summary>
    /// Stops the server the polite way (SHUTDOWN: the append-only file is flushed, as on a normal restart)
    /// and starts it again on the same port and data, after <paramref name="downtime"/>.
    /// </summary>
    public Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken) =>
        RestartAsync(() => Task.Delay(downtime, cancellationToken), cancellationToken);

    /// <summary>As <see cref="RestartAsync(TimeSpan, CancellationToken)"/>, doing <paramref name="whileDown"/> while the server is down.</summary>
    public async Task RestartAsync(Func<Task> whileDown, CancellationToken cancellationToken)
    {
        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},allowAdmin=true"))
        {
            try
            {
                admin.GetServers().Single().Shutdown();
            }
            catch (RedisConnectionException)
            {
                // The server closes the connection as it exits.
            }
        }

        await _process!.WaitForExitAsync(cancellationToken);
        StopProcess();
        await whileDown();
        await StartProcessAsync(cancellationToken);
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", _dataDirectory, "--save", "", "--appendonly", "yes" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        try
        {
            _process = Process.Start(startInfo) ?? throw new InvalidOperationException("redis-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("redis-server is not installed; the README's test command installs it (sudo apt-get install redis-server).");
        }

        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAnsweringAsync(cancellationToken);
    }

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},connectTimeout=500");
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && _process is { HasExited: false })
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>Freezes (SIGSTOP) or thaws (SIGCONT) the server: connections stay open, nothing answers.</summary>
    public void Freeze(bool frozen)
    {
        using var signal = Process.Start("kill", [frozen ? "-STOP" : "-CONT", _process!.Id.ToString()]);
        signal.WaitForExit();
    }

    /// <summary>A connection that may run admin commands (FLUSHALL, CLIENT KILL, DEBUG …).</summary>
    public Task<ConnectionMultiplexer> AdminAsync() => ConnectionMultiplexer.ConnectAsync($"{ConnectionString},allowAdmin=true");

    private void StopProcess()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        StopProcess();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left for the OS's temp cleanup.
        }

        return ValueTask.CompletedTask;
    }
}
