using Microsoft.AspNetCore.SignalR;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Gateway;

/// <summary>Two gateway processes on one real redis-server, as the AppHost runs them but without the proxy.</summary>
public sealed class BackplaneAcrossProcessesTests(TwoGatewaysFixture gateways) : IClassFixture<TwoGatewaysFixture>
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(10);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_message_sent_through_one_gateway_reaches_room_members_on_the_other()
    {
        await using var alice = await ChatTestClient.ConnectAsync(gateways.GatewayA.BaseAddress, _ct);
        await using var bob = await ChatTestClient.ConnectAsync(gateways.GatewayB.BaseAddress, _ct);
        Assert.Equal("gateway-a", (await alice.GetConnectionInfoAsync()).Replica);
        Assert.Equal("gateway-b", (await bob.GetConnectionInfoAsync()).Replica);
        await alice.JoinRoomAsync("lobby");
        await bob.JoinRoomAsync("lobby");

        var ack = await alice.SendMessageAsync("lobby", "hello from gateway a", clientMessageId: "c-1");

        var atBob = await bob.NextMessageAsync(Delivery);
        Assert.Equal((ack.MessageId, "lobby", "hello from gateway a", "c-1"), (atBob.Id, atBob.Room, atBob.Text, atBob.ClientMessageId));
        Assert.Equal((await alice.GetConnectionInfoAsync()).User, atBob.User);
        Assert.Equal(ack.MessageId, (await alice.NextMessageAsync(Delivery)).Id);
    }

    [Fact]
    public async Task Only_members_of_the_room_receive_its_messages()
    {
        await using var alice = await ChatTestClient.ConnectAsync(gateways.GatewayA.BaseAddress, _ct);
        await using var bob = await ChatTestClient.ConnectAsync(gateways.GatewayB.BaseAddress, _ct);
        await alice.JoinRoomAsync("kitchen");
        await bob.JoinRoomAsync("garden");
        await alice.JoinRoomAsync("garden");

        await alice.SendMessageAsync("kitchen", "only for the kitchen");
        await alice.SendMessageAsync("garden", "for the garden");

        // One sender's messages arrive in order, so the first one bob sees shows whether the kitchen leaked.
        Assert.Equal("for the garden", (await bob.NextMessageAsync(Delivery)).Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("x/../y")]
    [InlineData("a-room-name-that-is-far-too-long-for-the-limit-of-sixty-four-chars")]
    public async Task A_bad_room_name_gets_a_clear_error_and_the_connection_keeps_working(string room)
    {
        await using var client = await ChatTestClient.ConnectAsync(gateways.GatewayA.BaseAddress, _ct);

        var refused = await Assert.ThrowsAsync<HubException>(() => client.JoinRoomAsync(room));

        Assert.Contains("Room names are 1-64 characters of letters, digits", refused.Message);
        Assert.Equal("lobby", (await client.JoinRoomAsync("lobby")).Room);
    }

    [Fact]
    public async Task Sending_to_a_room_not_joined_is_refused()
    {
        await using var client = await ChatTestClient.ConnectAsync(gateways.GatewayA.BaseAddress, _ct);

        var refused = await Assert.ThrowsAsync<HubException>(() => client.SendMessageAsync("lobby", "hi"));

        Assert.Contains("Join room 'lobby' before sending", refused.Message);
    }
}
