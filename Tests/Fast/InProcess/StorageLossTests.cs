using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Fast.InProcess;

/// <summary>Redis losing its data (a flush, a restart without persistence) under the gateway in this process, on a Redis of this class's own.</summary>
public sealed class StorageLossTests(InProcessGateway gateway) : IClassFixture<InProcessGateway>
{
    [Fact]
    public async Task A_message_sent_right_after_Redis_lost_its_data_never_takes_the_id_of_the_one_sent_just_before()
    {
        // Two senders, as each may send 40 messages at once (the burst of the rate limit).
        await using var alice = await gateway.ConnectAsync(Unique("alice"));
        await using var bob = await gateway.ConnectAsync(Unique("bob"));
        await using var admin = await gateway.Redis.AdminAsync();
        var redis = admin.GetServers().Single();

        // Message ids are Redis stream ids, "<ms>-<n>": a stream started again after the loss numbers a millisecond
        // from 0, so a message stored within the millisecond of the last one before took its id (a member's client
        // then holds two messages under one id). A few tries, as each one's odds of landing in one millisecond are.
        var repeated = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            var (sender, room) = (i % 2 == 0 ? alice : bob, Unique("amnesia"));
            await sender.Chat.JoinRoomAsync(room);
            var before = await sender.Chat.SendMessageAsync(room, "before", "the last word before");
            await redis.FlushAllDatabasesAsync();
            var after = await sender.Chat.SendMessageAsync(room, "after", "the first word after");
            if (after.MessageId == before.MessageId)
            {
                repeated.Add(after.MessageId);
            }
        }

        Assert.True(repeated.Count == 0, $"{repeated.Count} of 40 messages sent right after a flush took the id of the one before: {string.Join(", ", repeated)}");
    }
}
