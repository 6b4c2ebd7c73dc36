namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>For what becomes true by itself a little later (a worker catching up, a replica coming back).</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds, or fails naming <paramref name="what"/> was not seen.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No {what()} within {timeout.TotalSeconds:F0} s.");
            }

            await Task.Delay(100);
        }
    }

    public static Task HoldsAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) => HoldsAsync(condition, timeout, () => what);
}
