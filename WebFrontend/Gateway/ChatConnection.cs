using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// This circuit's one connection to the gateway. WebSockets only, with negotiation skipped: the proxy in
/// front of the gateway replicas balances per TCP connection, so a negotiate request and the socket that
/// follows could land on different replicas.
/// </summary>
public sealed class ChatConnection : IAsyncDisposable
{
    private readonly HubConnection _connection;
    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal);

    public ChatConnection(GatewayAddress gateway)
    {
        _connection = new HubConnectionBuilder()
            .WithUrl(gateway.HubUrl, HttpTransportType.WebSockets, options => options.SkipNegotiation = true)
            .WithAutomaticReconnect()
            .Build();

        _connection.On<ChatMessage>(nameof(IChatClient.MessageReceived),
            message => MessageReceived?.Invoke(message) ?? Task.CompletedTask);
        _connection.Reconnecting += _ => Notify();
        _connection.Reconnected += RejoinRoomsAsync;
        _connection.Closed += _ => Notify();
    }

    public event Func<ChatMessage, Task>? MessageReceived;

    /// <summary>Raised when <see cref="State"/> changes.</summary>
    public event Func<Task>? StateChanged;

    public HubConnectionState State => _connection.State;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_connection.State == HubConnectionState.Disconnected)
        {
            await _connection.StartAsync(cancellationToken);
            await Notify();
        }
    }

    public Task<ConnectionDetails> GetConnectionInfoAsync() =>
        _connection.InvokeAsync<ConnectionDetails>(nameof(ChatHub.GetConnectionInfo));

    public async Task<JoinRoomResult> JoinRoomAsync(string room)
    {
        var joined = await _connection.InvokeAsync<JoinRoomResult>(nameof(ChatHub.JoinRoom), room);
        _rooms.Add(joined.Room);
        return joined;
    }

    public Task<MessageAck> SendMessageAsync(string room, string clientMessageId, string text) =>
        _connection.InvokeAsync<MessageAck>(nameof(ChatHub.SendMessage), room, clientMessageId, text);

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    // A reconnect may land on another replica, and group membership belongs to the old connection.
    private async Task RejoinRoomsAsync(string? connectionId)
    {
        foreach (var room in _rooms)
        {
            await _connection.InvokeAsync<JoinRoomResult>(nameof(ChatHub.JoinRoom), room);
        }

        await Notify();
    }

    private Task Notify() => StateChanged?.Invoke() ?? Task.CompletedTask;
}
