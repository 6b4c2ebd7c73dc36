using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Two users chatting in their own room, who must not notice anything while someone else misbehaves.</summary>
public sealed class BystanderPair : IAsyncDisposable
{
    private readonly ChatTestClient _alice;
    private readonly ChatTestClient _bob;
    private readonly string _room = Unique("bystanders");
    private int _sent;

    private BystanderPair(ChatTestClient alice, ChatTestClient bob) => (_alice, _bob) = (alice, bob);

    /// <summary>Alice on <paramref name="aliceGateway"/>, Bob on <paramref name="bobGateway"/>, both in one room.</summary>
    public static async Task<BystanderPair> StartAsync(Uri aliceGateway, Uri bobGateway, CancellationToken cancellationToken)
    {
        var pair = new BystanderPair(
            await ChatTestClient.ConnectAsync(aliceGateway, Unique("alice"), cancellationToken),
            await ChatTestClient.ConnectAsync(bobGateway, Unique("bob"), cancellationToken));
        await pair._alice.Chat.JoinRoomAsync(pair._room);
        await pair._bob.Chat.JoinRoomAsync(pair._room);
        return pair;
    }

    /// <summary>Alice still reaches Bob, and only what she sent arrives.</summary>
    public async Task AssertStillChattingAsync()
    {
        var text = $"still chatting {++_sent}";
        await _alice.Chat.SendMessageAsync(_room, Guid.NewGuid().ToString("N"), text);
        Assert.Equal(text, (await _bob.NextMessageAsync()).Text);
    }

    public async ValueTask DisposeAsync()
    {
        await _alice.DisposeAsync();
        await _bob.DisposeAsync();
    }
}
