using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Delivery;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Fast.InProcess;

/// <summary>Redis losing its data (a flush, a restart without persistence) under a gateway in this process, on a Redis of its own.</summary>
public sealed class StorageLossTests : IAsyncLifetime
{
    private const int Tries = 300;

    // One sender sends three messages, and joins and leaves a room, a try: past the rate limits' bursts, which are
    // not what this is about.
    private readonly InProcessGateway _gateway = new(host => host
        .UseSetting("Chat:Limits:MessagesPerSecond", "10000")
        .UseSetting("Chat:Limits:MessageBurst", "10000")
        .UseSetting("Chat:Limits:RoomChangesPerSecond", "10000"));

    public ValueTask InitializeAsync() => _gateway.InitializeAsync();

    public ValueTask DisposeAsync() => _gateway.DisposeAsync();

    [Fact]
    public async Task A_message_sent_right_after_Redis_lost_its_data_never_takes_the_id_of_the_one_sent_just_before()
    {
        await using var alice = await _gateway.ConnectAsync(Unique("alice"));
        await using var admin = await _gateway.Redis.AdminAsync();
        var redis = admin.GetServers().Single();

        // Message ids are Redis stream ids, "<ms>-<n>": a stream started again after the loss numbers a millisecond
        // from 0, so a message stored within the millisecond of the last one before took its id (a member's client
        // then holds two messages under one id). Many tries, as each one's odds of landing in one millisecond are.
        var repeated = new List<string>();
        for (var i = 0; i < Tries; i++)
        {
            var room = Unique("amnesia");
            await alice.Chat.JoinRoomAsync(room);
            // The room's epoch begins (at the join) a few milliseconds before its messages, as any room's in use does.
            // One that began, was lost and began again within a single millisecond would get the same epoch number:
            // no id rule tells those apart (MessageStore's append script says so).
            await Task.Delay(5, TestContext.Current.CancellationToken);
            await alice.Chat.SendMessageAsync(room, "first", "the first word");
            var before = await alice.Chat.SendMessageAsync(room, "before", "the last word before");
            await redis.FlushAllDatabasesAsync();
            var after = await alice.Chat.SendMessageAsync(room, "after", "the first word after");
            if (after.MessageId == before.MessageId)
            {
                repeated.Add(after.MessageId);
            }

            await alice.Chat.LeaveRoomAsync(room); // a connection may be in 50 rooms at most
        }

        Assert.True(repeated.Count == 0, $"{repeated.Count} of {Tries} messages sent right after a flush took the id of the one before: {string.Join(", ", repeated)}");
    }

    [Fact]
    public async Task A_connection_put_back_after_Redis_lost_its_data_keeps_its_client_id_so_its_client_back_can_replace_it()
    {
        await using var gateway = new InProcessGateway(host => host.UseSetting("Chat:Limits:MaxConnectionsPerUser", "1"));
        await gateway.InitializeAsync();
        var (user, clientId) = (Unique("tabby"), $"{ChatHubPaths.ClientIdParameter}={Guid.NewGuid():N}");
        await using var first = await gateway.ConnectAsync(user, query: clientId);
        await using (var admin = await gateway.Redis.AdminAsync())
        {
            await admin.GetServers().Single().FlushAllDatabasesAsync();
        }

        await first.Chat.JoinRoomAsync(Unique("room")); // the registry forgot the connection: it is put back

        // Its client, back after its network went away, with the first connection still open on the gateway.
        await using var back = await gateway.ConnectAsync(user, query: clientId);
        await back.Chat.JoinRoomAsync(Unique("room"));
        await Eventually.HoldsAsync(() => Task.FromResult(first.History.Contains(LocalConnections.ReplacedSentence, StringComparison.Ordinal)),
            ChatTestClient.Delivery, () => $"the connection it replaced was not closed: {first.History}");
    }
}
