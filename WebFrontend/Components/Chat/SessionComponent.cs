using Microsoft.AspNetCore.Components;
using RealtimeDemo.WebFrontend.Gateway;

namespace RealtimeDemo.WebFrontend.Components.Chat;

/// <summary>A piece of the chat page that re-renders whenever the circuit's <see cref="ChatSession"/> changes.</summary>
public abstract class SessionComponent : ComponentBase, IDisposable
{
    [Inject]
    protected ChatSession Session { get; set; } = null!;

    protected override void OnInitialized() => Session.Changed += RefreshAsync;

    private Task RefreshAsync() => InvokeAsync(StateHasChanged);

    public virtual void Dispose() => Session.Changed -= RefreshAsync;
}
