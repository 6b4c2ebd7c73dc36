using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

public static class OpsEndpointExtensions
{
    private const int BusiestRooms = 10;

    /// <summary>GET /ops/snapshot: every live gateway and worker process and the busiest rooms (signed-in callers only).</summary>
    public static RouteHandlerBuilder MapOpsSnapshot(this IEndpointRouteBuilder app) =>
        app.MapGet("/ops/snapshot", async (IConnectionMultiplexer redis, PresenceRegistry registry) =>
        {
            var db = redis.GetDatabase();
            var gateways = OpsStatsStore.ReadAsync<GatewayReplicaStats>(db, ChatRedisKeys.GatewayStatsIndex);
            var workers = OpsStatsStore.ReadAsync<WorkerStats>(db, ChatRedisKeys.WorkerStatsIndex);
            var rooms = registry.BusiestRoomsAsync(BusiestRooms);
            var activeRooms = registry.ActiveRoomCountAsync();
            var connections = registry.ConnectionCountAsync();
            await Task.WhenAll(gateways, workers, rooms, activeRooms, connections);
            return new OpsSnapshot(DateTimeOffset.UtcNow, connections.Result, activeRooms.Result, rooms.Result,
                [.. gateways.Result.OrderBy(g => g.Replica, StringComparer.Ordinal)], [.. workers.Result.OrderBy(w => w.Consumer, StringComparer.Ordinal)]);
        }).RequireAuthorization();
}
