using System.Collections.Concurrent;
using System.Diagnostics;
using RealtimeDemo.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.Tests.Infrastructure;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Telemetry;

/// <summary>What the .NET client adds to the trace of whoever started it (the frontend's sign-in click).</summary>
public sealed class ClientTraceTests : IAsyncLifetime
{
    private const string PersonSource = "RealtimeDemo.Tests.Person";
    private static readonly ActivitySource Person = new(PersonSource);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private GatewayCluster _cluster = null!;

    public async ValueTask InitializeAsync() => _cluster = await GatewayCluster.StartAsync(1, null, _ct);

    public async ValueTask DisposeAsync() => await _cluster.DisposeAsync();

    // Found on the dashboard: a sign-in's trace grew by a WebSocket request with every reconnect of its connection,
    // the last one 18 s after the click, after a replica was killed.
    [Fact]
    public async Task A_reconnect_adds_nothing_to_the_trace_of_the_sign_in_that_opened_the_connection()
    {
        var hub = new Uri(_cluster.A.BaseAddress, ChatHubPaths.Hub);
        var requestsToHub = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is PersonSource or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = request =>
            {
                if (request.GetTagItem("url.full") is string url && url.Contains($"{hub.Authority}{ChatHubPaths.Hub}", StringComparison.Ordinal))
                {
                    requestsToHub.Enqueue(request);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        // Its first token expires 5 s in: the gateway closes the connection, which the client reconnects.
        var user = Unique("cinderella");
        var tokensAsked = 0;
        var chat = new ChatClient(hub,
            () => Task.FromResult<string?>(TestTokens.Create(user, expiresIn: TimeSpan.FromSeconds(Interlocked.Increment(ref tokensAsked) == 1 ? 5 : 600))),
            TimeSpan.FromSeconds(1));
        ChatTestClient client;
        ActivityTraceId signIn;
        using (var click = Person.StartActivity("sign-in"))
        {
            signIn = click!.TraceId;
            client = await ChatTestClient.StartAsync(user, chat, _ct);
            await chat.JoinRoomAsync(Unique("ball"));
        }

        await using (client)
        {
            await Eventually.HoldsAsync(() => Task.FromResult(!client.Outages.IsEmpty), TimeSpan.FromSeconds(30), () => $"never back: {client.History}");

            var inSignIn = requestsToHub.Where(r => r.TraceId == signIn).ToList();
            Assert.True(inSignIn.Count == 1, $"the sign-in's trace holds {inSignIn.Count} requests to the hub (the connect alone belongs there)");
            Assert.Contains(requestsToHub, r => r.TraceId != signIn); // the reconnect's, seen, elsewhere
        }
    }
}
