using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using RealtimeDemo.AppHost;
using RealtimeDemo.AppHost.Redis;
using RealtimeDemo.AppHost.Scaling;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.AppHost;

/// <summary>The AppHost's model as built from its settings, without starting anything.</summary>
public sealed class AppHostModelTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_gateway_runs_three_replicas_by_default_and_as_many_as_Gateway_Replicas_says()
    {
        Assert.Equal((3, 8), GatewayReplicas(await BuildAsync("Redis:Mode=local")));
        Assert.Equal((5, 8), GatewayReplicas(await BuildAsync("Redis:Mode=local", "Gateway:Replicas=5")));
        Assert.Equal((10, 10), GatewayReplicas(await BuildAsync("Redis:Mode=local", "Gateway:Replicas=10")));
        Assert.Equal((2, 12), GatewayReplicas(await BuildAsync("Redis:Mode=local", "Gateway:Replicas=2", "Gateway:MaxReplicas=12")));
    }

    [Fact]
    public async Task Every_instance_up_to_the_maximum_is_declared_and_the_scale_command_sits_on_the_gateway_and_its_replicas_row()
    {
        var builder = await BuildAsync("Redis:Mode=local", "Gateway:Replicas=2", "Gateway:MaxReplicas=6");
        var gateway = Assert.Single(builder.Resources, r => r.Name == "realtime-gateway");

        Assert.True(gateway.TryGetLastAnnotation<ReplicaAnnotation>(out var declared));
        Assert.Equal(6, declared.Replicas);
        Assert.True(gateway.HasAnnotationOfType<ExplicitStartupAnnotation>());
        foreach (var resource in new[] { gateway, builder.Resources.Single(r => r.Name == "realtime-gateway-replicas"), builder.Resources.Single(r => r.Name == "chat-worker-replicas") })
        {
            var scale = Assert.Single(resource.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == "scale");
            Assert.Equal("replicas", Assert.Single(scale.Arguments!).Name);
        }
    }

    [Theory]
    [InlineData("Gateway:MaxReplicas=2", "Gateway:MaxReplicas (2) must not be below Gateway:Replicas (3).")]
    [InlineData("Gateway:MaxReplicas=17", "Gateway:MaxReplicas must be a whole number from 1 to 16; it is '17'.")]
    [InlineData("Worker:MaxReplicas=x", "Worker:MaxReplicas must be a whole number from 1 to 16; it is 'x'.")]
    public async Task A_maximum_below_the_start_count_or_outside_1_to_16_is_a_clear_error(string setting, string message)
    {
        var error = await Assert.ThrowsAsync<AppHostConfigurationException>(() => BuildAsync("Redis:Mode=local", setting));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("17")]
    [InlineData("three")]
    public async Task A_replica_count_outside_1_to_16_is_a_clear_error(string replicas)
    {
        var error = await Assert.ThrowsAsync<AppHostConfigurationException>(() => BuildAsync("Redis:Mode=local", $"Gateway:Replicas={replicas}"));

        Assert.Equal($"Gateway:Replicas must be a whole number from 1 to 16; it is '{replicas}'.", error.Message);
    }

    [Fact]
    public async Task A_given_connection_string_wins_over_every_other_choice()
    {
        var builder = await BuildAsync("ConnectionStrings:redis=redis.example:6380", "Redis:Mode=local");

        var redis = Assert.Single(builder.Resources, r => r.Name == "redis");
        Assert.IsNotType<LocalRedisServerResource>(redis);
        Assert.IsNotType<RedisResource>(redis);
        Assert.Equal("redis.example:6380", await ((IResourceWithConnectionString)redis).GetConnectionStringAsync(_ct));
    }

    [Fact]
    public async Task Without_a_container_runtime_redis_is_a_local_redis_server_process()
    {
        var builder = await BuildAsync("ASPIRE_CONTAINER_RUNTIME=/nonexistent/docker");

        var redis = Assert.IsType<LocalRedisServerResource>(Assert.Single(builder.Resources, r => r.Name == "redis"));
        Assert.EndsWith("redis-server", redis.Command);
    }

    [Fact]
    public async Task Without_redis_server_or_a_container_runtime_the_AppHost_stops_at_once_saying_how_to_fix_it()
    {
        var started = DateTime.UtcNow;

        var error = await Assert.ThrowsAsync<AppHostConfigurationException>(() =>
            BuildAsync("ASPIRE_CONTAINER_RUNTIME=/nonexistent/docker", "Redis:ServerPath=/nonexistent/redis-server"));

        Assert.Contains("Install redis-server (sudo apt-get install redis-server), start Docker, or set ConnectionStrings:redis", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), "The failure must not wait for a runtime that is not there.");
    }

    [Fact]
    public async Task A_Redis_container_keeps_its_data_on_a_volume_with_snapshots()
    {
        var builder = await BuildAsync("Redis:Mode=container", "ASPIRE_CONTAINER_RUNTIME=/bin/true"); // 'true info' answers

        var redis = Assert.IsType<RedisResource>(Assert.Single(builder.Resources, r => r.Name == "redis"));
        Assert.Contains(redis.Annotations.OfType<ContainerMountAnnotation>(), mount => mount.Target == "/data" && mount.Type == ContainerMountType.Volume);
        Assert.True(redis.TryGetLastAnnotation<CommandLineArgsCallbackAnnotation>(out _));
        var args = await ArgumentsAsync(redis);
        Assert.Contains("--save", args);
    }

    [Fact]
    public async Task Container_mode_without_a_running_runtime_stops_at_once()
    {
        var started = DateTime.UtcNow;

        var error = await Assert.ThrowsAsync<AppHostConfigurationException>(() => BuildAsync("Redis:Mode=container", "ASPIRE_CONTAINER_RUNTIME=/bin/false"));

        Assert.StartsWith("Redis:Mode is 'container' but the container runtime does not answer", error.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), "The failure must not wait for a runtime that is not there.");
    }

    [Fact]
    public async Task An_unknown_Redis_Mode_is_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<AppHostConfigurationException>(() => BuildAsync("Redis:Mode=cloud"));

        Assert.Equal("Redis:Mode is 'cloud'; use auto, container or local (or give ConnectionStrings:redis).", error.Message);
    }

    private async Task<IReadOnlyList<string>> ArgumentsAsync(IResource resource)
    {
        var context = new CommandLineArgsCallbackContext([], resource, _ct);
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var values = new List<string>();
        foreach (var arg in context.Args)
        {
            values.Add(arg switch
            {
                string text => text,
                IValueProvider provider => await provider.GetValueAsync(_ct) ?? "",
                _ => arg.ToString() ?? "",
            });
        }

        return values;
    }

    private async Task<IDistributedApplicationTestingBuilder> BuildAsync(params string[] settings) =>
        await AppHostRun.CreateBuilderAsync(settings, _ct);

    private static (int Initial, int Max) GatewayReplicas(IDistributedApplicationTestingBuilder builder) =>
        Assert.Single(builder.Resources, r => r.Name == "realtime-gateway").TryGetLastAnnotation<LiveReplicasAnnotation>(out var live)
            ? (live.Initial, live.Max)
            : (1, 1);
}
