using System.Diagnostics.Metrics;
using RealtimeDemo.Client;
using RealtimeDemo.ServerShared;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>
/// A failure in work nobody awaits (a Redis callback, a replay, a stop, a client's rejoin) is logged once,
/// counted, and marked on its span — and the rest keeps working.
/// </summary>
public sealed class FailureVisibilityTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_delivery_that_fails_on_a_replica_is_logged_once_counted_and_marked_and_the_room_goes_on()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(1, new Dictionary<string, string>(otlp.ExporterSettings("realtime-gateway")), _ct);
        var room = Unique("fragile");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);

        await using (var admin = await cluster.Redis.AdminAsync())
        {
            await admin.GetSubscriber().PublishAsync(StackExchange.Redis.RedisChannel.Literal(ChatRedisKeys.RoomDeliveryChannel(room)), "{not a message");
        }

        await alice.Chat.SendMessageAsync(room, "after", "still delivered");
        Assert.Equal("still delivered", (await bob.NextMessageAsync()).Text);
        await otlp.WaitUntilAsync(r => r.Metrics.Any(m => m.Name == "chat.background.failures" && m.Attribute("chat.operation") == "deliver" && m.Attribute("error.type") == "JsonException" && m.Value >= 1), Patience, "the failure counted");
        await otlp.WaitUntilAsync(r => r.Spans.Any(s => s.Name == "process room/{name}" && s.StatusCode == 2 && s.Attribute("error.type") == "JsonException"), Patience, "the span marked");
        Assert.Equal(1, Occurrences(cluster.A.Output, $"A delivery to this replica's members of room {room} failed (JsonException)"));
    }

    [Fact]
    public async Task A_replay_that_fails_after_the_backplane_comes_back_is_logged_counted_and_marked()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(1, new Dictionary<string, string>(otlp.ExporterSettings("realtime-gateway")), _ct);
        var (broken, fine) = (Unique("broken"), Unique("fine"));
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(broken);
        await alice.Chat.JoinRoomAsync(fine);
        await bob.Chat.JoinRoomAsync(fine);

        await using (var admin = await cluster.Redis.AdminAsync())
        {
            // A history that is no longer a stream, then the replica's subscription cut: its replay reads that history.
            await admin.GetDatabase().StringSetAsync(ChatRedisKeys.RoomHistory(broken), "not a stream");
            await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        }

        await otlp.WaitUntilAsync(r => r.Metrics.Any(m => m.Name == "chat.background.failures" && m.Attribute("chat.operation") == "replay" && m.Attribute("error.type") is not null && m.Value >= 1), Patience, "the failure counted");
        await otlp.WaitUntilAsync(r => r.Spans.Any(s => s.Name == "replay missed deliveries" && s.StatusCode == 2 && s.Attribute("error.type") is not null), Patience, "the span marked");
        Assert.Equal(1, Occurrences(cluster.A.Output, "Replay after the backplane came back failed"));
        await alice.Chat.SendMessageAsync(fine, "after", "the other room goes on");
        Assert.Equal("the other room goes on", (await bob.NextMessageAsync()).Text);
    }

    [Fact]
    public async Task A_registry_cleanup_at_stop_that_times_out_is_logged_and_the_stop_completes()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);

        cluster.Redis.Freeze(true);
        try
        {
            await cluster.A.StopAsync();
        }
        finally
        {
            cluster.Redis.Freeze(false);
        }

        var log = cluster.A.Output;
        Assert.Equal(1, Occurrences(log, "Removing this process's connections from the registry at stop failed ("));
        Assert.DoesNotContain("Unhandled exception", log);
        // The open connection's own removal failed too (or its connect did, when the freeze came first): in our words, once.
        Assert.DoesNotContain("Failed disposing connection", log);
    }

    [Fact]
    public async Task A_room_that_cannot_be_rejoined_after_a_reconnect_is_reported_and_retried_while_the_others_carry_on()
    {
        await using var cluster = await GatewayCluster.StartAsync(1, null, _ct);
        var rooms = Enumerable.Range(0, 3).Select(i => Unique($"r{i}")).ToList();
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        foreach (var room in rooms)
        {
            await alice.Chat.JoinRoomAsync(room);
        }

        // An observed, process-wide count (other tests' clients add to it too): what this test adds.
        var failuresBefore = RejoinFailuresCounted();

        // The gateway comes back allowing two rooms per connection: the third rejoin is refused.
        await cluster.A.StartAgainAsync(_ct, new Dictionary<string, string> { ["Chat__Limits__MaxRoomsPerConnection"] = "2" });
        await Eventually.HoldsAsync(() => Task.FromResult(alice.BackgroundErrors.OfType<RoomRejoinException>().Count(e => e.Room == rooms[2]) >= 2), Patience,
            () => $"two reported attempts to rejoin {rooms[2]}; connection: {alice.History}");

        Assert.True(alice.BackgroundErrors.OfType<RoomRejoinException>().All(e => e.Room == rooms[2]));
        Assert.True(RejoinFailuresCounted() - failuresBefore >= 2);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        foreach (var room in rooms.Take(2))
        {
            await bob.Chat.JoinRoomAsync(room);
            var ack = await bob.Chat.SendMessageAsync(room, $"{room}-1", $"hello {room}");
            Assert.Contains(await alice.MessagesUntilIdAsync(ack.MessageId, ChatTestClient.Delivery), m => m.Text == $"hello {room}");
        }
    }

    private static long RejoinFailuresCounted()
    {
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ChatClientTelemetry.Name && instrument.Name == "chat.client.rejoin.failures")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => counted += value);
        listener.Start();
        listener.RecordObservableInstruments();
        return counted;
    }

    [Fact]
    public async Task A_message_sent_while_someone_joins_a_quiet_room_is_shown_to_the_joiner_if_the_join_came_first()
    {
        await using var cluster = await GatewayCluster.StartAsync(2, null, _ct);
        var room = Unique("quiet");
        await using var sender = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("sender"), _ct);
        await sender.Chat.JoinRoomAsync(room);

        var live = 0;
        for (var round = 0; round < 30; round++)
        {
            await using var joiner = await ChatTestClient.ConnectAsync(cluster.B.BaseAddress, Unique("joiner"), _ct);
            var join = joiner.Chat.JoinRoomAsync(room);
            var send = sender.Chat.SendMessageAsync(room, $"race-{round}", $"during the join {round}");
            var (joined, ack) = (await join, await send);

            // Stored after the join's position: it must reach the joiner live, even with nothing sent after it.
            if (ack.Epoch == joined.Epoch && ack.Sequence > joined.LastSequence)
            {
                live++;
                Assert.Contains(await joiner.MessagesUntilIdAsync(ack.MessageId, ChatTestClient.Delivery), m => m.Id == ack.MessageId);
            }
        }

        TestContext.Current.SendDiagnosticMessage($"{live} of 30 messages were stored after the join's position");
    }

    [Fact]
    public async Task Exports_the_telemetry_receiver_refuses_are_logged_once_counted_and_told_when_one_gets_through_and_chat_goes_on()
    {
        await using var otlp = await OtlpReceiver.StartAsync(refusing: true);
        await using var cluster = await GatewayCluster.StartAsync(1, new Dictionary<string, string>(otlp.ExporterSettings("realtime-gateway")), _ct);
        await otlp.WaitUntilAsync(r => r.Refused >= 5, Patience, "five exports to refuse");

        var room = Unique("unobserved");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);
        await alice.Chat.SendMessageAsync(room, "while-blind", "delivered all the same");
        Assert.Equal("delivered all the same", (await bob.NextMessageAsync()).Text);
        var receiver = otlp.Endpoint.GetLeftPart(UriPartial.Authority);
        Assert.Equal(1, Occurrences(cluster.A.Output, $"Telemetry export to {receiver} failed (rejected); the spans, metrics or logs it held are lost."));

        otlp.Refusing = false;
        await otlp.WaitUntilAsync(r => r.Metrics.Any(m => m.Name == "chat.telemetry.export.failures" && m.Attribute("error.type") == "rejected" && m.Value >= 5),
            Patience, "the refused exports counted");
        await Eventually.HoldsAsync(() => Task.FromResult(Occurrences(cluster.A.Output, $"Telemetry export to {receiver} works again") == 1), Patience,
            () => $"one line telling the export works again; the log ends:{Environment.NewLine}{cluster.A.LogTail()}");
        Assert.Equal(1, Occurrences(cluster.A.Output, $"Telemetry export to {receiver} failed"));
    }

    [Fact]
    public async Task Spans_dropped_because_the_export_queue_is_full_are_logged_and_counted_and_chat_goes_on()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        var settings = new Dictionary<string, string>(otlp.ExporterSettings("realtime-gateway"))
        {
            ["OTEL_BSP_MAX_QUEUE_SIZE"] = "4",
            ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] = "4",
        };
        await using var cluster = await GatewayCluster.StartAsync(1, settings, _ct);
        var room = Unique("crowded");
        await using var alice = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("alice"), _ct);
        await using var bob = await ChatTestClient.ConnectAsync(cluster.A.BaseAddress, Unique("bob"), _ct);
        await alice.Chat.JoinRoomAsync(room);
        await bob.Chat.JoinRoomAsync(room);

        // The export thread waits on a receiver that does not answer; a room's messages make more spans than fit.
        otlp.Stalling = true;
        for (var i = 1; i <= 5; i++)
        {
            await alice.Chat.SendMessageAsync(room, $"m-{i}", $"message {i}");
            Assert.Equal($"message {i}", (await bob.NextMessageAsync()).Text);
        }

        const string Dropping = "Spans are being dropped before export (queue_full): the OpenTelemetry SDK's queue (OTEL_BSP_MAX_QUEUE_SIZE) is full";
        await Eventually.HoldsAsync(() => Task.FromResult(Occurrences(cluster.A.Output, Dropping) == 1), Patience,
            () => $"one line telling of the dropped spans; the log ends:{Environment.NewLine}{cluster.A.LogTail()}");
        otlp.Stalling = false;
        await otlp.WaitUntilAsync(r => r.Metrics.Any(m => m.Name == "otel.sdk.processor.span.processed" && m.Attribute("error.type") == "queue_full" && m.Value > 0),
            Patience, "the dropped spans counted");
        Assert.Equal(1, Occurrences(cluster.A.Output, "dropped before export"));
    }

    internal static int Occurrences(string text, string what) => (text.Length - text.Replace(what, "").Length) / what.Length;
}
