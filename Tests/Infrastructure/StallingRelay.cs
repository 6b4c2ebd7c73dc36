using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A TCP relay in front of a service that can be made to stall, as a stuck replica or proxy does: once
/// <see cref="Stall"/> is called, the connections it relayed are cut and new ones are accepted and never answered,
/// until <see cref="Relay"/>.
/// </summary>
public sealed class StallingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _sockets = [];
    private volatile bool _stalled;
    private int _stalledConnections;

    private StallingRelay(Uri target) => _target = target;

    /// <summary>The relay's address, to use in place of the target's.</summary>
    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>How many connections arrived while stalled (each held unanswered).</summary>
    public int StalledConnections => Volatile.Read(ref _stalledConnections);

    public static StallingRelay Start(Uri target)
    {
        var relay = new StallingRelay(target);
        relay._listener.Start();
        _ = relay.AcceptAsync();
        return relay;
    }

    public void Stall()
    {
        _stalled = true;
        foreach (var socket in _sockets)
        {
            socket.Client?.Close(); // the relayed connections break at once (null: one that ended before)
        }
    }

    public void Relay() => _stalled = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            if (_stalled)
            {
                Interlocked.Increment(ref _stalledConnections);
                _sockets.Add(client); // held, unanswered, until disposed
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var target = new TcpClient();
        _sockets.Add(client);
        _sockets.Add(target);
        try
        {
            await target.ConnectAsync(_target.Host, _target.Port, _stop.Token);
            var there = client.GetStream().CopyToAsync(target.GetStream(), _stop.Token);
            var back = target.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(there, back);
        }
        catch (Exception)
        {
            // Either side gone (or the relay stalled or stopped): the other is closed below.
        }
        finally
        {
            client.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
