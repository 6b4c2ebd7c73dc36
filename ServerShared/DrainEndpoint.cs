using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.ServerShared;

public static partial class DrainEndpoint
{
    /// <summary>
    /// POST /ops/drain (with the ops access key): the process runs its drain steps (a gateway tells its clients to
    /// reconnect, elsewhere through the proxy, which takes them out of presence at once), then stops gracefully (it
    /// no longer listens; a worker finishes its batch) and exits with 0. The AppHost asks for this before it would stop
    /// a replica itself: Aspire's stop ends the process tree within seconds, and SignalR's own shutdown cuts every
    /// connection without a word.
    /// </summary>
    public static IEndpointConventionBuilder MapDrain(this IEndpointRouteBuilder app) =>
        app.MapPost(ChatHubPaths.OpsDrain, IResult (HttpContext context, IEnumerable<IDrainStep> steps, IHostApplicationLifetime lifetime, ILoggerFactory loggers) =>
        {
            if (!OpsKey.IsPresented(context))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Draining a replica is for operators.",
                    detail: $"Send the ops access key (Ops:AccessKey) in the {ChatHubPaths.OpsKeyHeader} header.");
            }

            if (!lifetime.ApplicationStopping.IsCancellationRequested && Interlocked.Exchange(ref _asked, 1) == 0)
            {
                var log = loggers.CreateLogger(typeof(DrainEndpoint));
                LogDraining(log);
                // After the answer is sent, and not on the request's time: the stop closes the listener it came through.
                context.Response.OnCompleted(() =>
                {
                    _ = Task.Run(() => DrainThenStopAsync([.. steps], lifetime, log));
                    return Task.CompletedTask;
                });
            }

            return TypedResults.Accepted((string?)null, new { status = "draining" });
        });

    private static int _asked;

    private static async Task DrainThenStopAsync(IReadOnlyList<IDrainStep> steps, IHostApplicationLifetime lifetime, ILogger log)
    {
        foreach (var step in steps)
        {
            try
            {
                await step.BeforeStopAsync(lifetime.ApplicationStopping);
            }
            catch (Exception ex)
            {
                // The stop goes on: what the step did not finish, the graceful shutdown does more bluntly.
                LogDrainStepFailed(log, step.GetType().Name, ex.GetType().Name);
            }
        }

        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Asked to drain: finishing, then stopping gracefully")]
    private static partial void LogDraining(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain step {Step} failed ({Error}); stopping anyway")]
    private static partial void LogDrainStepFailed(ILogger logger, string step, string error);
}
