using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;
using RealtimeDemo.RealtimeGateway.Delivery;

namespace RealtimeDemo.Tests.Fast.Unit;

/// <summary>This replica's record of its connections and their rooms, and the gate that keeps a closing connection out.</summary>
public sealed class LocalConnectionsTests
{
    private readonly LocalConnections _local = new();

    [Fact]
    public void A_room_lists_its_local_members_until_the_last_one_leaves()
    {
        var (alice, bob) = (Connect("alice"), Connect("bob"));

        Assert.True(_local.Join(alice.ConnectionId, "lobby"));
        Assert.False(_local.Join(alice.ConnectionId, "lobby")); // already in
        Assert.True(_local.Join(bob.ConnectionId, "lobby"));
        Assert.Equal([alice, bob], _local.In("lobby").OrderBy(c => c.UserIdentifier));
        Assert.True(_local.Leave(alice.ConnectionId, "lobby"));
        Assert.Equal([bob], _local.In("lobby")); // read after every change: the list is kept between deliveries
        Assert.True(_local.HasMembers("lobby"));
        Assert.True(_local.Join(alice.ConnectionId, "lobby"));
        Assert.Equal([alice, bob], _local.In("lobby").OrderBy(c => c.UserIdentifier));
        _local.Remove(alice.ConnectionId);
        Assert.Equal([bob], _local.In("lobby"));
        Assert.Equal(["lobby"], _local.Remove(bob.ConnectionId));
        Assert.False(_local.HasMembers("lobby"));
        Assert.Empty(_local.In("lobby"));
        Assert.False(_local.Join("unknown", "lobby"));
    }

    [Fact]
    public async Task A_closing_connection_lets_a_change_in_progress_finish_and_refuses_every_later_one()
    {
        var alice = Connect("alice");
        var inProgress = await _local.EnterAsync(alice.ConnectionId);
        Assert.NotNull(inProgress);

        var closing = _local.CloseAsync(alice.ConnectionId);
        Assert.False(closing.IsCompleted); // waits for the change in progress
        inProgress.Dispose();
        using (await closing)
        {
        }

        Assert.Null(await _local.EnterAsync(alice.ConnectionId));
    }

    private HubConnectionContext Connect(string user)
    {
        var connection = new HubConnectionContext(new DefaultConnectionContext(Guid.NewGuid().ToString("N")), new HubConnectionContextOptions(), NullLoggerFactory.Instance)
        {
            UserIdentifier = user,
        };
        _local.Add(connection);
        return connection;
    }
}
