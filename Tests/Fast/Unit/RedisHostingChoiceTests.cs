using RealtimeDemo.AppHost;
using RealtimeDemo.AppHost.Redis;

namespace RealtimeDemo.Tests.Fast.Unit;

public sealed class RedisHostingChoiceTests
{
    private sealed class Machine(bool runtime, bool redisServer) : IRedisHostingProbe
    {
        public int RuntimeProbes { get; private set; }

        public bool ContainerRuntimeIsHealthy()
        {
            RuntimeProbes++;
            return runtime;
        }

        public string? FindRedisServer() => redisServer ? "/usr/bin/redis-server" : null;
    }

    [Fact]
    public void A_connection_string_wins_without_asking_the_machine()
    {
        var machine = new Machine(runtime: true, redisServer: true);

        Assert.Equal(RedisHosting.External, RedisHostingChoice.Choose("cache:6379", "local", isPublishMode: true, machine).Hosting);
        Assert.Equal(0, machine.RuntimeProbes);
    }

    [Fact]
    public void Publish_mode_always_uses_the_container_so_the_manifest_is_real()
    {
        Assert.Equal(RedisHosting.Container, RedisHostingChoice.Choose(null, "local", isPublishMode: true, new Machine(false, true)).Hosting);
    }

    [Theory]
    [InlineData(true, true, RedisHosting.Container)]
    [InlineData(true, false, RedisHosting.Container)]
    [InlineData(false, true, RedisHosting.Local)]
    public void Auto_prefers_a_running_container_runtime_then_a_local_redis_server(bool runtime, bool redisServer, RedisHosting expected)
    {
        Assert.Equal(expected, RedisHostingChoice.Choose(null, null, isPublishMode: false, new Machine(runtime, redisServer)).Hosting);
    }

    [Fact]
    public void Local_mode_does_not_probe_the_container_runtime()
    {
        var machine = new Machine(runtime: true, redisServer: true);

        Assert.Equal(RedisHosting.Local, RedisHostingChoice.Choose(null, "Local", isPublishMode: false, machine).Hosting);
        Assert.Equal(0, machine.RuntimeProbes);
    }

    [Fact]
    public void Local_mode_without_redis_server_says_how_to_install_it()
    {
        var error = Assert.Throws<AppHostConfigurationException>(() =>
            RedisHostingChoice.Choose(null, "local", isPublishMode: false, new Machine(true, false)));

        Assert.Contains("sudo apt-get install redis-server", error.Message);
    }

    [Fact]
    public void Container_mode_with_a_runtime_that_does_not_answer_stops_at_once_in_one_line()
    {
        var error = Assert.Throws<AppHostConfigurationException>(() =>
            RedisHostingChoice.Choose(null, "container", isPublishMode: false, new Machine(runtime: false, redisServer: true)));

        Assert.Equal("Redis:Mode is 'container' but the container runtime does not answer ('docker info' fails): start it, or use Redis:Mode=local (redis-server) or ConnectionStrings:redis.", error.Message);
    }
}
