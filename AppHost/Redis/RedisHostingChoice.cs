namespace RealtimeDemo.AppHost.Redis;

public enum RedisHosting
{
    /// <summary>ConnectionStrings:redis names a server that is already running.</summary>
    External,

    /// <summary>The Redis container image (Aspire.Hosting.Redis).</summary>
    Container,

    /// <summary>A redis-server process started from this machine's PATH.</summary>
    Local,
}

/// <summary>What the machine offers, asked only when the choice needs it.</summary>
public interface IRedisHostingProbe
{
    bool ContainerRuntimeIsHealthy();

    /// <summary>The full path of redis-server, or null when it is not installed.</summary>
    string? FindRedisServer();
}

/// <summary>
/// The one place that decides how Redis is hosted. The order is: a connection string given wins; publish
/// mode always uses the container so a deployment manifest is real; otherwise Redis:Mode decides
/// (auto: a working container runtime, else a local redis-server).
/// </summary>
public static class RedisHostingChoice
{
    public const string ModeSetting = "Redis:Mode";

    public static (RedisHosting Hosting, string Reason) Choose(string? connectionString, string? mode, bool isPublishMode, IRedisHostingProbe probe)
    {
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return (RedisHosting.External, "ConnectionStrings:redis is set");
        }

        if (isPublishMode)
        {
            return (RedisHosting.Container, "publish mode always uses the container");
        }

        switch ((mode ?? "auto").Trim().ToLowerInvariant())
        {
            case "container":
                // Aspire would wait for an unhealthy runtime with nothing running, for ever: say so at once instead.
                return probe.ContainerRuntimeIsHealthy()
                    ? (RedisHosting.Container, $"{ModeSetting} is 'container'")
                    : throw new AppHostConfigurationException(
                        $"{ModeSetting} is 'container' but the container runtime does not answer ('docker info' fails): start it, or use {ModeSetting}=local (redis-server) or ConnectionStrings:redis.");
            case "local":
                return probe.FindRedisServer() is not null
                    ? (RedisHosting.Local, $"{ModeSetting} is 'local'")
                    : throw new AppHostConfigurationException(
                        $"{ModeSetting} is 'local' but redis-server was not found (Redis:ServerPath, or the PATH): install it (sudo apt-get install redis-server) or give ConnectionStrings:redis.");
            case "auto":
                if (probe.ContainerRuntimeIsHealthy())
                {
                    return (RedisHosting.Container, "a container runtime is running");
                }

                return probe.FindRedisServer() is not null
                    ? (RedisHosting.Local, "no container runtime is running; redis-server is installed")
                    : throw new AppHostConfigurationException(
                        "No Redis: no container runtime is running and redis-server is not installed. Install redis-server (sudo apt-get install redis-server), start Docker, or set ConnectionStrings:redis to a running server.");
            default:
                throw new AppHostConfigurationException(
                    $"{ModeSetting} is '{mode}'; use auto, container or local (or give ConnectionStrings:redis).");
        }
    }
}

