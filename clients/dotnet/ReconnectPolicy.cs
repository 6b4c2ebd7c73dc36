using Microsoft.AspNetCore.SignalR.Client;

namespace RealtimeDemo.Client;

/// <summary>
/// When to try reconnecting after the connection broke: at once, then soon and more slowly (0.25, 0.5, 1, 2 s, then
/// every 5 s), each delay with ±20 % jitter so that the clients of a replica that went away do not all arrive
/// together; given up after <see cref="GiveUpAfter"/>. SignalR's default waits 2 s after a failed first attempt, then
/// 10 s and 30 s, and gives up after four: one refused first attempt (a replica that was itself leaving) cost a user
/// twelve seconds.
/// </summary>
public sealed class ReconnectPolicy : IRetryPolicy
{
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan[] Delays =
        [TimeSpan.Zero, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    private static readonly TimeSpan Steady = TimeSpan.FromSeconds(5);

    public TimeSpan? NextRetryDelay(RetryContext retryContext)
    {
        if (retryContext.ElapsedTime >= GiveUpAfter)
        {
            return null;
        }

        var delay = retryContext.PreviousRetryCount < Delays.Length ? Delays[retryContext.PreviousRetryCount] : Steady;
        return delay * (0.8 + (0.4 * Random.Shared.NextDouble()));
    }
}
