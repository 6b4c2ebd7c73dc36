using Microsoft.Extensions.Options;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Auth;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.ServerShared;
using StackExchange.Redis;

namespace RealtimeDemo.RealtimeGateway.Extensions;

public static class OpsEndpointExtensions
{
    private const int BusiestRooms = 10;
    private static readonly TimeSpan SnapshotPatience = TimeSpan.FromSeconds(2);

    /// <summary>The title of the snapshot's answer while Redis is unreachable (the frontend's ops view shows it).</summary>
    public const string StorageUnavailable = Contracts.ChatHubMethods.StorageUnavailableRefusal + ", and the cluster's numbers are read from it.";

    /// <summary>
    /// GET /ops/snapshot: every gateway and worker process that reports, those gone silent lately, and the busiest rooms — for operators only:
    /// a caller with Ops:AccessKey (the AppHost gives it to the frontend) in the X-Ops-Key header, or a user
    /// whose token carries the operator role (Auth:OperatorRole). A chat token alone is not enough.
    /// </summary>
    public static RouteHandlerBuilder MapOpsSnapshot(this IEndpointRouteBuilder app) =>
        app.MapGet(ChatHubPaths.OpsSnapshot, async Task<IResult> (HttpContext context, IConnectionMultiplexer redis, PresenceRegistry registry, TimeProvider time) =>
        {
            if (!IsOperator(context))
            {
                return TypedResults.Problem(
                    statusCode: context.User.Identity?.IsAuthenticated == true ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized,
                    title: "The ops snapshot is for operators.",
                    detail: $"Send the ops access key (Ops:AccessKey) in the {ChatHubPaths.OpsKeyHeader} header, or a token with the operator role (Auth:OperatorRole).");
            }

            var (db, now) = (redis.GetDatabase(), time.GetUtcNow());
            var gateways = OpsStatsStore.ReadAsync<GatewayReplicaStats>(db, ChatRedisKeys.GatewayStatsIndex, now);
            var workers = OpsStatsStore.ReadAsync<WorkerStats>(db, ChatRedisKeys.WorkerStatsIndex, now);
            var rooms = registry.BusiestRoomsAsync(BusiestRooms);
            var activeRooms = registry.ActiveRoomCountAsync();
            var connections = registry.ConnectionCountAsync();
            try
            {
                // A frozen Redis answers nothing until the client's timeout (5 s): the ops view polls every second.
                await Task.WhenAll(gateways, workers, rooms, activeRooms, connections).WaitAsync(SnapshotPatience, time);
            }
            catch (Exception ex) when (ex is TimeoutException || ex.IsRedisUnavailable())
            {
                // The outage itself is logged and counted by the processes' Redis loops; a poll a second would only repeat it.
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: StorageUnavailable,
                    detail: "Every process publishes its numbers to Redis, and the snapshot is read from there. The gateway itself is up.");
            }

            var (reportingGateways, silentGateways) = gateways.Result;
            var (reportingWorkers, silentWorkers) = workers.Result;
            return TypedResults.Ok(new OpsSnapshot(now, connections.Result, activeRooms.Result, rooms.Result,
                [.. reportingGateways.OrderBy(g => g.Replica, StringComparer.Ordinal)], [.. reportingWorkers.OrderBy(w => w.Consumer, StringComparer.Ordinal)],
                // A replica restarted under its old name reports again: its silent run before is no news.
                [.. silentGateways.Where(g => !reportingGateways.Any(r => r.Replica == g.Replica)).OrderBy(g => g.Replica, StringComparer.Ordinal)],
                [.. silentWorkers.Where(w => !reportingWorkers.Any(r => r.Consumer == w.Consumer)).OrderBy(w => w.Consumer, StringComparer.Ordinal)]));
        });

    private static bool IsOperator(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<IOptions<TokenOptions>>().Value;
        if (OpsKey.IsPresented(context))
        {
            return true;
        }

        // Development tokens are handed to anyone, so only an identity provider's role counts.
        return tokens.UsesAuthority && context.User.HasClaim(tokens.RoleClaim, tokens.OperatorRole);
    }
}
