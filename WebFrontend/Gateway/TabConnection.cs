using Microsoft.AspNetCore.Components.Server.Circuits;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// Whether this circuit's tab is connected now. Blazor keeps the circuit of a tab that went away without a word
/// (killed, asleep, offline) for three minutes in case it comes back: work done only for the tab's eyes (the ops
/// view's refresh every second) waits while it is gone, rather than polling the gateway for nobody.
/// </summary>
public sealed class TabConnection : CircuitHandler
{
    private volatile bool _up = true;

    public bool IsUp => _up;

    public override Task OnConnectionDownAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        _up = false;
        return Task.CompletedTask;
    }

    public override Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        _up = true;
        return Task.CompletedTask;
    }
}
