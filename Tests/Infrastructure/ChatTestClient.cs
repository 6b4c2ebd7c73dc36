using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>A .NET SignalR client the way the frontend connects: WebSockets only, negotiation skipped.</summary>
public sealed class ChatTestClient : IAsyncDisposable
{
    private readonly Channel<ChatMessage> _received = Channel.CreateUnbounded<ChatMessage>();

    private ChatTestClient(HubConnection connection)
    {
        Connection = connection;
        Connection.On<ChatMessage>(nameof(IChatClient.MessageReceived), message => _received.Writer.TryWrite(message));
    }

    public HubConnection Connection { get; }

    public static async Task<ChatTestClient> ConnectAsync(Uri gateway, CancellationToken cancellationToken)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(gateway, ChatHubPaths.Hub), HttpTransportType.WebSockets, options => options.SkipNegotiation = true)
            .Build();
        var client = new ChatTestClient(connection);
        await connection.StartAsync(cancellationToken);
        return client;
    }

    public Task<ConnectionDetails> GetConnectionInfoAsync() =>
        Connection.InvokeAsync<ConnectionDetails>(nameof(ChatHub.GetConnectionInfo));

    public Task<JoinRoomResult> JoinRoomAsync(string room) =>
        Connection.InvokeAsync<JoinRoomResult>(nameof(ChatHub.JoinRoom), room);

    public Task<MessageAck> SendMessageAsync(string room, string text, string? clientMessageId = null) =>
        Connection.InvokeAsync<MessageAck>(nameof(ChatHub.SendMessage), room, clientMessageId ?? Guid.NewGuid().ToString("N"), text);

    /// <summary>The next message this client receives, or a timeout failure naming what it waited for.</summary>
    public async Task<ChatMessage> NextMessageAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _received.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No message arrived within {timeout.TotalSeconds:F0} s.");
        }
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
