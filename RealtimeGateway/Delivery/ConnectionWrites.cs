using Microsoft.AspNetCore.SignalR;

namespace RealtimeDemo.RealtimeGateway.Delivery;

/// <summary>One serialized message written to several local connections: rooms and private messages share it.</summary>
public static class ConnectionWrites
{
    /// <summary>Writes to every connection but <paramref name="except"/>; returns how many were written to.</summary>
    /// <remarks>A value task: when every write finishes at once (the usual case), a delivery allocates no task.</remarks>
    public static async ValueTask<int> WriteToAllAsync(
        IReadOnlyList<HubConnectionContext> connections, SerializedHubMessage serialized, string? except = null)
    {
        var written = 0;
        // Start every write before waiting for any: one slow socket must not hold up the others. Most writes
        // finish at once (the socket's buffer takes them), and those need no task.
        List<Task>? pending = null;
        foreach (var connection in connections)
        {
            if (connection.ConnectionId == except)
            {
                continue;
            }

            written++;
            var write = connection.WriteAsync(serialized);
            if (!write.IsCompletedSuccessfully)
            {
                (pending ??= []).Add(write.AsTask());
            }
        }

        if (pending is not null)
        {
            await Task.WhenAll(pending);
        }

        return written;
    }
}
