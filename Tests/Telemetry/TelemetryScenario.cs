using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.Client;
using RealtimeDemo.ServerShared;
using RealtimeDemo.Tests.Infrastructure;
using StackExchange.Redis;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Telemetry;

/// <summary>
/// One run of everything the telemetry describes, against real processes exporting OTLP to the test: chat
/// across two gateway replicas and the worker, refusals, every way a connection ends, a publish failure,
/// a Redis restart, a poison stream entry. The .NET clients run in this process; their spans are caught
/// with an ActivityListener, their metric with a MeterListener.
/// </summary>
public sealed class TelemetryScenario : IAsyncLifetime
{
    public const string Collection = "telemetry scenario";

    public const string Marker = "ZEBRA-MARKER-7f3a91";

    private readonly List<IAsyncDisposable> _owned = [];
    private ActivityListener? _clientSpans;
    private MeterListener? _clientMetrics;

    public OtlpReceiver Otlp { get; private set; } = null!;

    public ConcurrentQueue<Activity> ClientSpans { get; } = new();

    /// <summary>
    /// The .NET clients' counters now, less what they were when the scenario began (they are observed process-wide
    /// totals, and other tests' clients count too), one entry per series.
    /// </summary>
    public IReadOnlyList<(string Name, IReadOnlyDictionary<string, object?> Tags, long Value)> ClientMetrics =>
        [.. ReadClientCounters().Select(m => (m.Name, m.Tags, m.Value - _clientBaseline.GetValueOrDefault(SeriesKey(m.Name, m.Tags))))];

    private readonly Lock _clientReading = new();
    private List<(string Name, IReadOnlyDictionary<string, object?> Tags, long Value)>? _clientRead;
    private Dictionary<string, long> _clientBaseline = [];

    /// <summary>Alice's first lobby message, sent on gateway-a with Bob on gateway-b.</summary>
    public MessageAck FirstMessage { get; private set; } = null!;

    private string _stage = "start";

    public async ValueTask InitializeAsync()
    {
        try
        {
            await RunAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"The telemetry scenario failed at: {_stage}", ex);
        }
    }

    private async Task RunAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        ListenToClients();
        Otlp = await OtlpReceiver.StartAsync();
        _owned.Add(Otlp);
        var settings = new Dictionary<string, string>(Otlp.ExporterSettings("realtime-gateway"))
        {
            ["Chat__Limits__ClientTimeoutInterval"] = "00:00:04",
            ["Chat__Limits__KeepAliveInterval"] = "00:00:01",
            ["Telemetry__Rooms__0"] = "lobby",
        };
        var cluster = await GatewayCluster.StartAsync(2, settings, ct);
        _owned.Add(cluster);
        await cluster.StartWorkerAsync("worker-1", ct);
        var (a, b) = (cluster.A, cluster.B);

        // Chat across replicas: rooms, sends (a duplicate, a blocked word), a private message, a leave.
        _stage = "Chat across replicas: rooms, sends (a duplicate, a blocked word), a private message, a leave.";
        var alice = await Connect(a, Unique("alice"), ct);
        var bob = await Connect(b, Unique("bob"), ct);
        var carol = await Connect(b, Unique("carol"), ct);
        foreach (var client in new[] { alice, bob, carol })
        {
            await client.Chat.JoinRoomAsync("lobby");
        }

        await alice.Chat.JoinRoomAsync("team-x");
        await bob.Chat.JoinRoomAsync("team-x");
        FirstMessage = await alice.Chat.SendMessageAsync("lobby", "m-1", "hello everyone");
        await alice.Chat.SendMessageAsync("lobby", "m-1", "hello everyone");
        await alice.Chat.SendMessageAsync("lobby", "m-2", "buy cheap spam now");
        await alice.Chat.SendMessageAsync("team-x", "t-1", $"the secret is {Marker}");
        await alice.Chat.SendPrivateMessageAsync(bob.User, "psst");
        await bob.NextPrivateMessageAsync();
        await bob.Chat.LeaveRoomAsync("team-x");
        foreach (var room in (string[])["side-1", "side-2"])
        {
            await bob.Chat.JoinRoomAsync(room); // with the lobby, three rooms: one too many after b's restart below
        }

        await Refused(() => alice.Chat.SendMessageAsync("elsewhere", "x", "not a member"));
        await Refused(() => alice.Chat.JoinRoomAsync("bad room"));

        // Refused connections: no, forged, expired tokens; a foreign origin; a sixth tab.
        _stage = "Refused connections: no, forged, expired tokens; a foreign origin; a sixth tab.";
        await RefusedConnection(a, null);
        await RefusedConnection(a, Marker);
        await RefusedConnection(a, TestTokens.Create("eve", expiresIn: TimeSpan.FromMinutes(-5)));
        await ForeignOrigin(a, ct);
        await SixConnections(a, Unique("tabby"), ct);

        // Every way a connection ends.
        _stage = "Every way a connection ends.";
        _stage = "client_closed";
        await carol.Chat.Connection.StopAsync(ct);                                            // client_closed
        var silent = await RawWebSocketClient.ConnectAsync(a.BaseAddress, await Token(a, "silent"), ct);
        await silent.SendAsync("{\"type\":6}\u001e", ct); // one ping, then nothing: the client timeout starts at the first message
        _stage = "timeout";
        await silent.ClosedByServerWithinAsync(TimeSpan.FromSeconds(10));                     // timeout
        var vanishing = await RawWebSocketClient.ConnectAsync(a.BaseAddress, await Token(a, "vanisher"), ct);
        _stage = "a client vanishing";
        vanishing.Vanish();                                                                    // client_closed: SignalR cannot tell it from a close
        var garbled = await RawWebSocketClient.ConnectAsync(a.BaseAddress, await Token(a, "garbler"), ct);
        _stage = "protocol_error";
        await garbled.SendAsync("{this is not json\u001e", ct);                               // protocol_error
        await garbled.ClosedByServerWithinAsync(TimeSpan.FromSeconds(10));
        var mangled = await RawWebSocketClient.ConnectAsync(a.BaseAddress, await Token(a, "mangler"), ct);
        _stage = "protocol_error from the WebSocket layer";
        await mangled.SendTextFrameAsync([0x7B, 0xC3, 0x28, 0x7D, 0x1E], ct);                   // not UTF-8: protocol_error too
        await mangled.ClosedByServerWithinAsync(TimeSpan.FromSeconds(10));
        await using (var big = await RawHubConnection.ConnectAsync(a.BaseAddress, Unique("big"), ct))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => big.Connection.InvokeAsync<MessageAck>("SendMessage", "lobby", "x", new string('x', 40_000), ct));
            _stage = "limit";
            await big.Closed;                                                                   // limit
        }

        // Valid for 3 s more: it connects, then lapses (one already past its expiry is refused at the door).
        await using (var expiring = RawHubConnection.Create(a.BaseAddress, TestTokens.Create(Unique("cinderella"), expiresIn: TimeSpan.FromSeconds(3))))
        {
            await expiring.Connection.StartAsync(ct);
            _stage = "token_expired";
            await expiring.Closed.WaitAsync(TimeSpan.FromSeconds(30), ct);                     // token_expired
        }

        // A delivery that fails on a replica (a payload no gateway wrote), and a history that is no longer a stream:
        // the first is counted and marked at once; the second fails the replay after the Redis restart below.
        _stage = "A delivery that fails on a replica.";
        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{cluster.Redis.ConnectionString},allowAdmin=true"))
        {
            await admin.GetSubscriber().PublishAsync(RedisChannel.Literal(ChatRedisKeys.RoomDeliveryChannel("lobby")), "{not a message");
            await admin.GetDatabase().StringSetAsync(ChatRedisKeys.RoomHistory("team-x"), "not a stream");
        }

        // A live publish that fails (the message is stored; Bob's client fills the gap at the next message).
        _stage = "A live publish that fails (the message is stored; Bob's client fills the gap at the next message).";
        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{cluster.Redis.ConnectionString},allowAdmin=true"))
        {
            await admin.GetDatabase().ExecuteAsync("ACL", "SETUSER", "default", "-publish");
            await alice.Chat.SendMessageAsync("lobby", "m-3", "published to nobody");
            await admin.GetDatabase().ExecuteAsync("ACL", "SETUSER", "default", "+publish");
        }

        await alice.Chat.SendMessageAsync("lobby", "m-4", "after the failed publish");
        await bob.MessagesUntilAsync("lobby", 4, ChatTestClient.Delivery);

        // Redis restarts: subscriptions drop and come back; replicas replay; the worker carries on.
        _stage = "Redis restarts: subscriptions drop and come back; replicas replay; the worker carries on.";
        await cluster.Redis.RestartAsync(TimeSpan.FromSeconds(1), ct);
        await alice.SendUntilStoredAsync("lobby", "m-5", "after the restart");
        // a's replay fails (team-x); b's succeeds, 1-4 s after Redis is back. Freezing b before then would leave the
        // catalogue without a replay that counted its messages (seen once in about ten runs).
        await Otlp.WaitUntilAsync(r => r.Spans.Any(s => s.Name == "replay missed deliveries" && s.Attributes.ContainsKey("messaging.batch.message_count")),
            TimeSpan.FromSeconds(30), "a replica's replay after the restart");

        // b stalls past the replica timeout: a removes it (remove dead replica); thawed, b puts its connections back (restore registry).
        _stage = "b stalls past the replica timeout.";
        b.Freeze(true);
        await Task.Delay(TimeSpan.FromSeconds(6), ct);
        b.Freeze(false);
        await Otlp.WaitUntilAsync(r => r.Spans.Any(s => s.Name == "restore registry" && s.Attribute("chat.recovery.reason") == "swept_while_alive"),
            TimeSpan.FromSeconds(30), "b restoring its registry entries");

        // A graceful stop with Bob connected (server_shutdown); Bob's client reconnects and fills the gap.
        _stage = "A graceful stop with Bob connected (server_shutdown); Bob's client reconnects and fills the gap.";
        // It comes back allowing two rooms per connection: Bob's rejoin of his third fails (and is retried).
        // Dora's client, paused (as the frontend pauses a tab that is gone), fails to resume while b is down.
        var dora = await Connect(b, Unique("dora"), ct);
        await dora.Chat.PauseAsync(ct);
        await b.StopAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => dora.Chat.ResumeAsync(ct));
        await alice.SendUntilStoredAsync("lobby", "m-6", "while b restarts");
        await b.StartAgainAsync(ct, new Dictionary<string, string> { ["Chat__Limits__MaxRoomsPerConnection"] = "2" });
        await bob.MessagesUntilAsync("lobby", 6, TimeSpan.FromSeconds(45));
        await Eventually.HoldsAsync(() => Task.FromResult(!bob.BackgroundErrors.IsEmpty), TimeSpan.FromSeconds(30), "a rejoin failure");

        // A member away while its room's history moved on past what it had shown is told how many it missed.
        _stage = "A member away while its room's history was trimmed is told how many messages it missed.";
        var trimmed = Unique("trimmed");
        var erin = await Connect(a, Unique("erin"), ct);
        var frank = await Connect(a, Unique("frank"), ct);
        await erin.Chat.JoinRoomAsync(trimmed);
        await frank.Chat.JoinRoomAsync(trimmed);
        await erin.Chat.PauseAsync(ct);
        for (var i = 1; i <= 3; i++)
        {
            await frank.Chat.SendMessageAsync(trimmed, $"t-{i}", "while erin is away");
        }

        await using (var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString))
        {
            await redis.GetDatabase().StreamTrimAsync(ChatRedisKeys.RoomHistory(trimmed), 1); // as Chat:History:MaxMessagesPerRoom would
        }

        await erin.Chat.ResumeAsync(ct);
        await erin.MessagesUntilAsync(trimmed, 3, ChatTestClient.Delivery);
        Assert.Equal((trimmed, 2L), Assert.Single(erin.Missed));

        // A stream entry the worker cannot process: retried, then dead-lettered.
        _stage = "A stream entry the worker cannot process: retried, then dead-lettered.";
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString))
        {
            await redis.GetDatabase().StreamAddAsync(ChatRedisKeys.MessageStream, "garbage", "1");
            await Eventually.HoldsAsync(async () => await redis.GetDatabase().StreamLengthAsync(ChatRedisKeys.DeadLetters) > 0, TimeSpan.FromSeconds(30), "a dead letter");
        }

        // Redis loses its data: every process finds out and counts it; rooms start a new epoch.
        _stage = "Redis loses its data.";
        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{cluster.Redis.ConnectionString},allowAdmin=true"))
        {
            await admin.GetServers().Single().FlushAllDatabasesAsync();
        }

        await alice.SendUntilStoredAsync("lobby", "m-7", "after the flush");
        // (Each process exports the counter from its start, at 0 until it finds a loss.)
        await Otlp.WaitUntilAsync(r => r.Metrics.Any(m => m.Name == "chat.storage.data_losses" && m.Service == "realtime-gateway" && m.Value > 0)
            && r.Metrics.Any(m => m.Name == "chat.storage.data_losses" && m.Service == "chat-worker" && m.Value > 0), TimeSpan.FromSeconds(30), "the data loss counted");

        // Let every exporter flush: traces and metrics within a second; Redis command spans within ~1 s.
        _stage = "Let every exporter flush: traces and metrics within a second; Redis command spans within ~1 s.";
        await Otlp.WaitUntilAsync(r => r.Metrics.Any(m => m.Name == "chat.worker.messages" && m.Attribute("chat.outcome") == "dead_lettered"), TimeSpan.FromSeconds(20), "the dead-letter count");
        await Otlp.WaitUntilAsync(r => r.Spans.Any(s => s.Kind == OtlpSpan.KindClient && s.Attributes.ContainsKey("db.system")), TimeSpan.FromSeconds(30), "Redis client spans");
        await Task.Delay(TimeSpan.FromSeconds(2), ct);

        // Last, the receiver refuses exports for a moment: each service counts what it could not export.
        _stage = "The receiver refuses exports for a moment.";
        var refusedBefore = Otlp.Refused;
        Otlp.Refusing = true;
        await Otlp.WaitUntilAsync(r => r.Refused >= refusedBefore + 6, TimeSpan.FromSeconds(20), "six exports to refuse");
        Otlp.Refusing = false;
        await Otlp.WaitUntilAsync(r => r.Metrics.Any(m => m.Name == "chat.telemetry.export.failures" && m.Attribute("error.type") == "rejected" && m.Value > 0),
            TimeSpan.FromSeconds(20), "the refused exports counted");
    }

    private async Task<ChatTestClient> Connect(ServiceProcess gateway, string user, CancellationToken ct)
    {
        var client = await ChatTestClient.ConnectAsync(gateway.BaseAddress, user, ct);
        _owned.Add(client);
        return client;
    }

    private static Task<string> Token(ServiceProcess gateway, string user) =>
        ChatTestClient.GetTokenAsync(gateway.BaseAddress, Unique(user), TestContext.Current.CancellationToken);

    private static async Task Refused(Func<Task> call) => await Assert.ThrowsAsync<HubException>(call);

    private static async Task RefusedConnection(ServiceProcess gateway, string? token)
    {
        await using var connection = RawHubConnection.Create(gateway.BaseAddress, token);
        await Assert.ThrowsAnyAsync<Exception>(() => connection.Connection.StartAsync());

        // The same token on a plain HTTP request, where logs and spans record URLs.
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{ChatHubPaths.Hub}/negotiate?access_token={token}");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        (await http.SendAsync(request)).Dispose();
    }

    private static async Task ForeignOrigin(ServiceProcess gateway, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, ChatHubPaths.Hub);
        request.Headers.Add("Origin", "http://evil.example");
        (await http.SendAsync(request, ct)).Dispose();
    }

    private static async Task SixConnections(ServiceProcess gateway, string user, CancellationToken ct)
    {
        var connections = new List<RawHubConnection>();
        for (var i = 0; i < 5; i++)
        {
            connections.Add(await RawHubConnection.ConnectAsync(gateway.BaseAddress, user, ct));
        }

        var sixth = await RawHubConnection.ConnectAsync(gateway.BaseAddress, user, ct, confirm: false);
        await sixth.Closed;
        connections.Add(sixth);
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }


    private void ListenToClients()
    {
        _clientSpans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ChatClientTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = ClientSpans.Enqueue,
        };
        ActivitySource.AddActivityListener(_clientSpans);

        _clientMetrics = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ChatClientTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _clientMetrics.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _clientRead?.Add((instrument.Name, tags.ToArray().ToDictionary(t => t.Key, t => t.Value), value)));
        _clientMetrics.Start();
        _clientBaseline = ReadClientCounters().ToDictionary(m => SeriesKey(m.Name, m.Tags), m => m.Value);
    }

    private List<(string Name, IReadOnlyDictionary<string, object?> Tags, long Value)> ReadClientCounters()
    {
        lock (_clientReading)
        {
            _clientRead = [];
            _clientMetrics!.RecordObservableInstruments();
            var read = _clientRead;
            _clientRead = null;
            return read;
        }
    }

    private static string SeriesKey(string name, IReadOnlyDictionary<string, object?> tags) =>
        name + string.Concat(tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"|{t.Key}={t.Value}"));

    public async ValueTask DisposeAsync()
    {
        _clientSpans?.Dispose();
        _clientMetrics?.Dispose();
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }
}

[CollectionDefinition(TelemetryScenario.Collection)]
public sealed class TelemetryScenarioCollection : ICollectionFixture<TelemetryScenario>;
