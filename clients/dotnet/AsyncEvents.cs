namespace RealtimeDemo.Client;

/// <summary>
/// Raises an event of async handlers and awaits every one, in order. Invoking a multicast Func&lt;Task&gt; directly
/// would run them all but hand back (and await) only the last one's task.
/// </summary>
internal static class AsyncEvents
{
    public static async Task RaiseAsync<T>(Func<T, Task>? handlers, T argument)
    {
        foreach (var handler in handlers?.GetInvocationList().Cast<Func<T, Task>>() ?? [])
        {
            await handler(argument);
        }
    }

    public static async Task RaiseAsync<T1, T2>(Func<T1, T2, Task>? handlers, T1 first, T2 second)
    {
        foreach (var handler in handlers?.GetInvocationList().Cast<Func<T1, T2, Task>>() ?? [])
        {
            await handler(first, second);
        }
    }
}
