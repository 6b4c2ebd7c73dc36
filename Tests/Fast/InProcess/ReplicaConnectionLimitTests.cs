using System.Net.WebSockets;
using System.Text;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Fast.InProcess;

/// <summary>
/// A replica bounds the WebSockets it holds by a setting, counting those that never send their handshake: the
/// cluster-wide limit counts only connections that completed it, so sockets opened and left silent were bounded by
/// nothing but the handshake timeout and the rate an attacker could open them.
/// </summary>
public sealed class ReplicaConnectionLimitTests : IAsyncLifetime
{
    private const string Refusal = "This gateway replica holds as many connections as it may (Chat:Limits:MaxConnectionsPerReplica); try again later.";
    private readonly InProcessGateway _gateway = new(host => host.UseSetting("Chat:Limits:MaxConnectionsPerReplica", "2"));

    public ValueTask InitializeAsync() => _gateway.InitializeAsync();

    public ValueTask DisposeAsync() => _gateway.DisposeAsync();

    [Fact]
    public async Task Silent_sockets_fill_the_replica_a_client_beyond_is_told_so_and_gets_in_once_one_closes()
    {
        using var first = await _gateway.OpenSilentWebSocketAsync(Unique("silent"));
        using var second = await _gateway.OpenSilentWebSocketAsync(Unique("silent"));

        // A socket is counted once its connection starts, just after the upgrade: a client that comes sooner still gets in.
        var refusal = await NextRefusalAsync(TimeSpan.FromSeconds(10));
        Assert.Equal($"Unable to complete handshake with the server due to an error: {Refusal}", refusal);
        Assert.Equal(WebSocketState.Open, first.State);
        Assert.Equal(WebSocketState.Open, second.State);

        // Any client reads it as its handshake's answer: one WebSocket message holding the whole record (the
        // JavaScript client reads the answer from one message).
        using var third = await _gateway.OpenSilentWebSocketAsync(Unique("third"));
        var ct = TestContext.Current.CancellationToken;
        await third.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, ct);
        var buffer = new byte[4096];
        var answer = await third.ReceiveAsync(buffer, ct);
        Assert.True(answer.EndOfMessage);
        Assert.Equal($"{{\"error\":\"{Refusal}\"}}\u001e", Encoding.UTF8.GetString(buffer, 0, answer.Count));

        first.Abort();
        var (room, user) = (Unique("after"), Unique("alice"));
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                await using var alice = await _gateway.ConnectAsync(user);
                await alice.Chat.JoinRoomAsync(room);
                await alice.Chat.SendMessageAsync(room, "c-1", "there is room again");
                Assert.Equal("there is room again", (await alice.NextMessageAsync()).Text);
                return true;
            }
            catch (Microsoft.AspNetCore.SignalR.HubException error) when (error.Message.Contains(Refusal, StringComparison.Ordinal))
            {
                return false; // the closed socket's place is not free yet
            }
        }, TimeSpan.FromSeconds(10), "client let in after a silent socket closed");
        Assert.Equal(WebSocketState.Open, second.State);
    }

    private async Task<string> NextRefusalAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var admitted = await _gateway.ConnectAsync(Unique("late"));
            }
            catch (Microsoft.AspNetCore.SignalR.HubException error)
            {
                return error.Message;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no client was refused within {timeout.TotalSeconds:F0} s of two silent sockets opening");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
