using Microsoft.AspNetCore.SignalR.Client;
using RealtimeDemo.Client;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Delivery;
using static RealtimeDemo.Tests.Infrastructure.Names;

namespace RealtimeDemo.Tests.Fast.InProcess;

/// <summary>
/// Two connections with one client id: the one its client made later holds, whichever reached the gateway later.
/// Found by hand: a /js page's sign-in gave up a try whose handshake a slow replica had not answered within 3 s,
/// connected on the next, and that replica, answering the first try at last, replaced the page's live connection
/// and told it not to reconnect (the page stayed disconnected).
/// </summary>
public sealed class ConnectionAttemptTests(InProcessGateway gateway) : IClassFixture<InProcessGateway>
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_attempt_its_client_gave_up_that_arrives_after_a_later_one_is_refused_and_the_later_connection_stays()
    {
        var user = Unique("tabby");
        var token = await gateway.TokenAsync(user);
        var client = $"{ChatHubPaths.ClientIdParameter}={Guid.NewGuid():N}";
        await using var later = gateway.Raw(token, $"{client}&{ChatHubPaths.AttemptParameter}=5");
        await later.Connection.StartAsync(_ct);
        await later.Connection.InvokeAsync<ConnectionDetails>(ChatHubMethods.GetConnectionInfo, _ct);

        // Its attempt 3, given up unanswered, reaches the gateway only now (a frozen or slow replica).
        await using var late = gateway.Raw(token, $"{client}&{ChatHubPaths.AttemptParameter}=3");
        await late.Connection.StartAsync(_ct);
        Assert.EndsWith("This connection attempt came after its client had given it up: a later attempt with the same clientId holds the connection.",
            (await late.Closed)?.Message);
        Assert.Equal(HubConnectionState.Connected, later.Connection.State);
        await later.Connection.InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, Unique("room"), _ct);

        // A later attempt replaces it, as a client back after its network went away does.
        await using var latest = gateway.Raw(token, $"{client}&{ChatHubPaths.AttemptParameter}=6");
        await latest.Connection.StartAsync(_ct);
        Assert.EndsWith(LocalConnections.ReplacedSentence, (await later.Closed)?.Message);
        await latest.Connection.InvokeAsync<JoinRoomResult>(ChatHubMethods.JoinRoom, Unique("room"), _ct);
    }

    [Fact]
    public void A_client_given_an_address_that_carries_an_attempt_of_its_own_is_refused_in_words()
    {
        var refused = Assert.Throws<ArgumentException>(() => new ChatClient(new Uri("http://localhost:5310/hubs/chat?attempt=1"), () => Task.FromResult<string?>("token")));
        Assert.StartsWith("The hub's address must not carry an attempt: the client numbers its connection attempts itself.", refused.Message);

        // A parameter whose name only ends in "attempt" is the caller's own, and passes.
        _ = new ChatClient(new Uri("http://localhost:5310/hubs/chat?reattempt=1&myclientId=2"), () => Task.FromResult<string?>("token"));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("1000000000000000")]
    [InlineData("2&attempt=3")]
    public async Task A_malformed_attempt_is_refused_in_our_words(string attempt)
    {
        var token = await gateway.TokenAsync(Unique("tabby"));
        await using var refused = gateway.Raw(token, $"{ChatHubPaths.ClientIdParameter}={Guid.NewGuid():N}&{ChatHubPaths.AttemptParameter}={attempt}");
        await refused.Connection.StartAsync(_ct);
        Assert.EndsWith($"The hub address's attempt must be one whole number from 1 to {ChatHubPaths.MaxAttempt}, or left out.", (await refused.Closed)?.Message);
    }
}
