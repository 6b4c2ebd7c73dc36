using System.Diagnostics;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Two users chatting in their own room, who must not notice anything while someone else misbehaves.</summary>
public sealed class BystanderPair : IAsyncDisposable
{
    private readonly ChatTestClient _alice;
    private readonly ChatTestClient _bob;
    private readonly string _room = Unique("bystanders");
    private readonly Stopwatch _sinceLastSend = Stopwatch.StartNew();
    private int _sent;

    // Half the gateway's default rate (20 messages a second): a class whose checks take milliseconds each would
    // otherwise have Alice exceed it herself, and be refused for her own pace, not for anyone's misbehaviour.
    private static readonly TimeSpan PoliteInterval = TimeSpan.FromMilliseconds(100);

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
        if (PoliteInterval - _sinceLastSend.Elapsed is { Ticks: > 0 } wait)
        {
            await Task.Delay(wait);
        }

        _sinceLastSend.Restart();
        await _alice.Chat.SendMessageAsync(_room, Guid.NewGuid().ToString("N"), text);
        Assert.Equal(text, (await _bob.NextMessageAsync()).Text);
    }

    public async ValueTask DisposeAsync()
    {
        await _alice.DisposeAsync();
        await _bob.DisposeAsync();
    }
}
