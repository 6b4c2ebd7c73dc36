using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Contracts;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>Every contract method, over two real gateway processes on one real redis-server.</summary>
public sealed class ChatContractTests(TwoGatewaysFixture fixture) : IClassFixture<TwoGatewaysFixture>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    private GatewayCluster Cluster => fixture.Cluster;

    private static string TraceId(string? traceParent) => Assert.IsType<string>(traceParent).Split('-')[1];

    private Task<ChatTestClient> ConnectAsync(ServiceProcess gateway, string user) =>
        ChatTestClient.ConnectAsync(gateway.BaseAddress, user, _ct);

    [Fact]
    public async Task A_message_sent_on_one_replica_reaches_room_members_on_the_other_and_is_acked_as_stored()
    {
        var room = Unique("lobby");
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        await using var bob = await ConnectAsync(Cluster.B, Unique("bob"));
        Assert.Equal(("gateway-a", "gateway-b"), ((await alice.Chat.GetConnectionInfoAsync()).Replica, (await bob.Chat.GetConnectionInfoAsync()).Replica));
        // The start says who and where the connection is, so a page need not ask again (the frontend's sign-in).
        Assert.Equal(await alice.Chat.GetConnectionInfoAsync(), alice.LetInAs);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);

        var ack = await alice.Chat.SendMessageAsync(room, "c-1", "hello from a");

        var atBob = await bob.NextMessageAsync();
        Assert.Equal((ack.MessageId, room, alice.User, "hello from a", "c-1", 1L), (atBob.Id, atBob.Room, atBob.User, atBob.Text, atBob.ClientMessageId, atBob.Sequence));
        Assert.Equal(ack.SentAt, atBob.SentAt);
        Assert.Equal(ack.MessageId, (await alice.NextMessageAsync()).Id);
        var stored = Assert.Single(await bob.Chat.GetMessagesAsync(room, null, 10));
        Assert.Equal(atBob with { TraceParent = null }, stored with { TraceParent = null });
        // Stored with the sender's context, delivered with the receiving replica's: one trace.
        Assert.Equal(TraceId(stored.TraceParent), TraceId(atBob.TraceParent));
        Assert.NotEqual(stored.TraceParent, atBob.TraceParent);
    }

    [Fact]
    public async Task A_client_that_negotiates_on_one_replica_and_opens_its_WebSocket_on_the_other_connects_and_chats()
    {
        // What a proxy that balances per TCP connection does to a client that negotiates first (most SignalR clients).
        var room = Unique("negotiated");
        var user = Unique("carol");
        var token = await ChatTestClient.GetTokenAsync(Cluster.A.BaseAddress, user, _ct);
        var negotiating = new Client.ChatClient(new Uri(Cluster.A.BaseAddress, ChatHubPaths.Hub), () => Task.FromResult<string?>(token), configureConnection: options =>
        {
            options.SkipNegotiation = false;
            options.WebSocketFactory = async (context, cancellationToken) =>
            {
                var socket = new System.Net.WebSockets.ClientWebSocket();
                socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
                var onB = new UriBuilder(context.Uri) { Host = Cluster.B.BaseAddress.Host, Port = Cluster.B.BaseAddress.Port };
                Assert.Contains("id=", onB.Query); // the id replica A handed out
                await socket.ConnectAsync(onB.Uri, cancellationToken);
                return socket;
            };
        });
        await using var carol = await ChatTestClient.StartAsync(user, negotiating, _ct);
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));

        Assert.Equal("gateway-b", (await carol.Chat.GetConnectionInfoAsync()).Replica);
        await carol.Chat.JoinRoomAsync(room);
        await alice.Chat.JoinRoomAsync(room);
        var ack = await carol.Chat.SendMessageAsync(room, "c-1", "negotiated on a, connected to b");
        Assert.Equal(ack.MessageId, (await alice.NextMessageAsync()).Id);
    }

    [Fact]
    public async Task Resending_the_same_client_message_id_returns_the_same_ack_and_stores_nothing_twice()
    {
        var room = Unique("retry");
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        await using var bob = await ConnectAsync(Cluster.B, Unique("bob"));
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);

        var first = await alice.Chat.SendMessageAsync(room, "same-id", "only once");
        var again = await alice.Chat.SendMessageAsync(room, "same-id", "only once");
        await alice.Chat.SendMessageAsync(room, "next-id", "second message");

        Assert.Equal(first, again);
        Assert.Equal(["only once", "second message"], (await bob.MessagesUntilAsync(room, 2, ChatTestClient.Delivery)).Select(m => m.Text));
        Assert.Equal(2, (await alice.Chat.GetMessagesAsync(room, null, 10)).Count);
        Assert.Equal(2, (await bob.Chat.GetRoomStatsAsync(room)).Messages);
    }

    [Fact]
    public async Task Sends_arriving_together_are_each_stored_once_with_their_own_sequence_and_resends_among_them_are_duplicates()
    {
        // Sends that meet at a replica are stored by one script call (group commit): nothing in a batch may merge,
        // skip or repeat a number, and a resend racing its original (from the same user's second connection, so the
        // two can meet in one batch) is still recognised, whichever of the two arrives first.
        var room = Unique("rush");
        var senders = new List<ChatTestClient>();
        var twins = new List<ChatTestClient>();
        await using var bob = await ConnectAsync(Cluster.B, Unique("bob"));
        await bob.Chat.JoinRoomAsync(room);
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var user = Unique($"sender{i}");
                senders.Add(await ConnectAsync(Cluster.A, user));
                twins.Add(await ConnectAsync(Cluster.A, user));
                await senders[i].Chat.JoinRoomAsync(room);
                await twins[i].Chat.JoinRoomAsync(room);
            }

            var sends = senders.SelectMany((sender, i) => Enumerable.Range(0, 5).Select(n => (sender, Id: $"s{i}-{n}")))
                .Select(send => send.sender.Chat.SendMessageAsync(room, send.Id, $"text {send.Id}")).ToList();
            var resends = twins.Select((twin, i) => twin.Chat.SendMessageAsync(room, $"s{i}-0", $"text s{i}-0")).ToList();
            var acks = await Task.WhenAll(sends);
            var resent = await Task.WhenAll(resends);

            Assert.Equal(Enumerable.Range(1, 40).Select(n => (long)n), acks.Select(ack => ack.Sequence).Order());
            Assert.Equal(40, acks.Select(ack => ack.MessageId).Distinct().Count());
            Assert.All(resent, (ack, i) => Assert.Equal(acks[i * 5], ack));
            var received = await bob.MessagesUntilAsync(room, 40, ChatTestClient.Delivery);
            Assert.Equal(Enumerable.Range(1, 40).Select(n => (long)n), received.Select(message => message.Sequence));
            Assert.Equal(acks.Select(ack => ack.MessageId).Order(), received.Select(message => message.Id).Order());
            Assert.Equal(40, (await bob.Chat.GetRoomStatsAsync(room)).Messages);
        }
        finally
        {
            foreach (var client in senders.Concat(twins))
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Only_members_of_a_room_receive_its_messages()
    {
        var (kitchen, garden) = (Unique("kitchen"), Unique("garden"));
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        await using var bob = await ConnectAsync(Cluster.B, Unique("bob"));
        await alice.Chat.JoinRoomAsync(kitchen);
        await alice.Chat.JoinRoomAsync(garden);
        await bob.Chat.JoinRoomAsync(garden);

        await alice.Chat.SendMessageAsync(kitchen, "k-1", "only for the kitchen");
        await alice.Chat.SendMessageAsync(garden, "g-1", "for the garden");

        // One sender's messages arrive in order, so the first one bob sees shows whether the kitchen leaked.
        Assert.Equal("for the garden", (await bob.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task Joining_reports_cluster_wide_members_and_announces_a_user_once_however_many_connections()
    {
        var room = Unique("presence");
        var bobName = Unique("bob");
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        await alice.Chat.JoinRoomAsync(room);
        await alice.Chat.SendMessageAsync(room, "m-1", "before bob");
        await using var bobOnB = await ConnectAsync(Cluster.B, bobName);
        await using var bobOnA = await ConnectAsync(Cluster.A, bobName);

        var joined = await bobOnB.Chat.JoinRoomAsync(room);
        var joinedAgain = await bobOnA.Chat.JoinRoomAsync(room);

        Assert.Equal((room, 2, 1L), (joined.Room, joined.Members, joined.LastSequence));
        Assert.Equal((await alice.NextMessageAsync()).Id, joined.LastMessageId);
        Assert.Equal(2, joinedAgain.Members);
        Assert.Equal((room, bobName), await alice.NextUserJoinedAsync());

        await bobOnB.Chat.LeaveRoomAsync(room);
        Assert.Equal(2, (await alice.Chat.GetRoomStatsAsync(room)).Members); // bob is still in through his other connection
        await bobOnA.DisposeAsync();

        Assert.Equal((room, bobName), await alice.NextUserLeftAsync());
        Assert.Equal(1, (await alice.Chat.GetRoomStatsAsync(room)).Members);
        // Bob's second connection was not news: the next UserJoined Alice hears is Carol's (a sentinel, not a wait).
        await using var carol = await ConnectAsync(Cluster.B, Unique("carol"));
        await carol.Chat.JoinRoomAsync(room);
        Assert.Equal((room, carol.User), await alice.NextUserJoinedAsync());
    }

    [Fact]
    public async Task Room_stats_are_the_same_from_every_replica()
    {
        var room = Unique("stats");
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        await using var bob = await ConnectAsync(Cluster.B, Unique("bob"));
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        await alice.Chat.SendMessageAsync(room, "1", "one");
        var last = await bob.Chat.SendMessageAsync(room, "2", "two");

        var fromA = await alice.Chat.GetRoomStatsAsync(room);
        var fromB = await bob.Chat.GetRoomStatsAsync(room);

        Assert.Equal(fromA, fromB);
        Assert.Equal((room, 2, 2L, last.MessageId, last.SentAt), (fromA.Room, fromA.Members, fromA.Messages, fromA.LastMessageId, fromA.LastMessageAt));
        var empty = await alice.Chat.GetRoomStatsAsync(Unique("empty"));
        Assert.Equal((0, 0L, (string?)null), (empty.Members, empty.Messages, empty.LastMessageId));
    }

    [Fact]
    public async Task GetMessages_returns_the_messages_after_an_id_in_pages()
    {
        var room = Unique("history");
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        await alice.Chat.JoinRoomAsync(room);
        var acks = new List<RealtimeDemo.Contracts.MessageAck>();
        for (var i = 1; i <= 5; i++)
        {
            acks.Add(await alice.Chat.SendMessageAsync(room, $"m{i}", $"message {i}"));
        }

        var firstPage = await alice.Chat.GetMessagesAsync(room, null, 2);
        var afterSecond = await alice.Chat.GetMessagesAsync(room, acks[1].MessageId, 10);

        Assert.Equal(["message 1", "message 2"], firstPage.Select(m => m.Text));
        Assert.Equal(["message 3", "message 4", "message 5"], afterSecond.Select(m => m.Text));
        Assert.Equal([3L, 4L, 5L], afterSecond.Select(m => m.Sequence));
        Assert.Empty(await alice.Chat.GetMessagesAsync(room, acks[4].MessageId, 10));
        // Ids no message can follow or precede read as the empty pages they are (the second was refused, the first
        // read "0-0" as the start).
        Assert.Equal(5, (await alice.Chat.GetMessagesAsync(room, "0-0", 10)).Count);
        Assert.Empty(await alice.Chat.GetMessagesAsync(room, "18446744073709551615-18446744073709551615", 10));
        Assert.Empty(await alice.Chat.GetOlderMessagesAsync(room, "0-0", 10));
        Assert.Equal(["message 1"], (await alice.Chat.GetOlderMessagesAsync(room, acks[1].MessageId, 10)).Select(m => m.Text));
    }

    [Fact]
    public async Task A_history_page_stays_under_a_mebibyte_whatever_its_texts_hold_and_the_next_page_has_the_rest()
    {
        var room = Unique("emoji");
        var user = Unique("alice");
        await using var alice = await ConnectAsync(Cluster.A, user);
        await alice.Chat.JoinRoomAsync(room);
        var text = string.Concat(Enumerable.Repeat("\U0001F600", 2_000)); // 4,000 characters, 24 KB on the wire escaped
        var acks = new List<MessageAck>();
        for (var i = 0; i < 50; i++)
        {
            acks.Add(await alice.Chat.SendMessageAsync(room, $"e{i}", text));
            await Task.Delay(60, _ct); // within the send rate (Chat:Limits:MessagesPerSecond, 20)
        }

        // Pages end at the message whose text brings theirs to HistoryPages.MaxTextLength: 25 of these.
        var first = await alice.Chat.GetMessagesAsync(room, null, 200);
        Assert.Equal(25, first.Count);
        var rest = await alice.Chat.GetMessagesAsync(room, first[^1].Id, 200);
        Assert.Equal(acks.Select(a => a.MessageId), first.Concat(rest).Select(m => m.Id));
        Assert.Equal(acks.Skip(25).Select(a => a.MessageId), (await alice.Chat.GetRecentMessagesAsync(room, 200)).Select(m => m.Id));
        Assert.Equal(acks.Skip(24).Take(25).Select(a => a.MessageId), (await alice.Chat.GetOlderMessagesAsync(room, acks[^1].MessageId, 200)).Select(m => m.Id));

        // On the wire the first page was one record of 1.2 MB (4.9 MB for 200 such messages), past the 1 MiB a
        // WebSocket library commonly takes by default (Python's websockets).
        await using var raw = await RawWebSocketClient.ConnectAsync(Cluster.A.BaseAddress, await ChatTestClient.GetTokenAsync(Cluster.A.BaseAddress, user, _ct), _ct);
        await raw.InvokeAsync(ChatHubMethods.JoinRoom, [room], _ct);
        await raw.InvokeAsync(ChatHubMethods.GetMessages, [room, null, 200], _ct);
        var (_, records) = await raw.ReadUntilClosedAsync(TimeSpan.FromSeconds(5)); // reads for all of it
        var page = Assert.Single(records, r => r.Contains("\"invocationId\":\"2\"", StringComparison.Ordinal));
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(page), 500_000, 1_000_000);
    }

    [Fact]
    public async Task A_private_message_reaches_only_its_recipient_on_another_replica()
    {
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        await using var bob = await ConnectAsync(Cluster.B, Unique("bob"));
        await using var carol = await ConnectAsync(Cluster.B, Unique("carol"));

        var ack = await alice.Chat.SendPrivateMessageAsync(bob.User, "just for bob");

        var received = await bob.NextPrivateMessageAsync();
        Assert.Equal((ack.MessageId, alice.User, bob.User, "just for bob"), (received.Id, received.From, received.To, received.Text));
        Assert.Equal(bob.User, ack.To);
        Assert.Equal((ack.SentAt, 0L), (received.SentAt, ack.SentAt.Ticks % TimeSpan.TicksPerMillisecond)); // to the millisecond, as a room message's
        // Carol got nothing of it: the first private message she receives is the one sent to her afterwards.
        await alice.Chat.SendPrivateMessageAsync(carol.User, "now for carol");
        Assert.Equal("now for carol", (await carol.NextPrivateMessageAsync()).Text);
    }

    [Fact]
    public async Task A_private_message_to_a_user_connected_nowhere_is_a_clear_error()
    {
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        var nobody = Unique("nobody");

        var error = await Assert.ThrowsAsync<HubException>(() => alice.Chat.SendPrivateMessageAsync(nobody, "hello?"));

        Assert.Contains($"User '{nobody}' is not connected anywhere in the chat.", error.Message);
    }

    [Fact]
    public async Task Disconnecting_tells_the_room_the_user_left()
    {
        var room = Unique("bye");
        await using var alice = await ConnectAsync(Cluster.A, Unique("alice"));
        var bob = await ConnectAsync(Cluster.B, Unique("bob"));
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        Assert.Equal((room, bob.User), await alice.NextUserJoinedAsync());

        await bob.DisposeAsync();

        Assert.Equal((room, bob.User), await alice.NextUserLeftAsync());
        Assert.Equal(1, (await alice.Chat.GetRoomStatsAsync(room)).Members);
    }
}
