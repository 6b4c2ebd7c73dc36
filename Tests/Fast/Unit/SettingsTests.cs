using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using RealtimeDemo.AppHost;
using RealtimeDemo.ServerShared;
using RealtimeDemo.WebFrontend.Gateway;

namespace RealtimeDemo.Tests.Fast.Unit;

public sealed class SettingsTests
{
    [Theory]
    [InlineData(null, 3)]
    [InlineData("1", 1)]
    [InlineData(" 16 ", 16)]
    public void Gateway_replicas_default_to_three_and_accept_1_to_16(string? value, int expected)
    {
        Assert.Equal(expected, ReplicasExtensions.Parse("Gateway:Replicas", value, defaultCount: 3));
    }

    [Theory]
    [InlineData("service.instance.id=abc123", "abc123")]
    [InlineData("deployment.environment=dev, service.instance.id = r2 ", "r2")]
    [InlineData("service.name=gateway", null)]
    [InlineData("", null)]
    public void The_replica_id_is_the_service_instance_id_Aspire_assigns(string attributes, string? expected)
    {
        Assert.Equal(expected, ServiceInstance.FromResourceAttributes(attributes));
    }

    [Fact]
    public void The_frontend_finds_the_gateway_hub_at_the_url_Aspire_injects()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["services:realtime-gateway:http:0"] = "http://localhost:5310" })
            .Build();

        Assert.Equal(new Uri("http://localhost:5310/hubs/chat"), GatewayAddress.FromConfiguration(configuration).HubUrl);
    }

    [Fact]
    public void Browsers_reach_the_gateway_where_Gateway_BrowserUrl_says_and_this_process_where_it_always_does()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["services:realtime-gateway:http:0"] = "http://realtime-gateway-service:8080",
                ["Gateway:BrowserUrl"] = "https://chat.example.com",
            })
            .Build();

        var address = GatewayAddress.FromConfiguration(configuration);

        Assert.Equal(new Uri("http://realtime-gateway-service:8080/hubs/chat"), address.HubUrl);
        Assert.Equal(new Uri("https://chat.example.com/hubs/chat"), address.BrowserHubUrl);
    }

    [Theory]
    [InlineData(null, "No gateway URL")]
    [InlineData("localhost:5310", "is not an absolute http(s) URL")]
    public void A_missing_or_malformed_gateway_url_is_a_clear_error(string? url, string error)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:Url"] = url })
            .Build();

        Assert.Contains(error, Assert.Throws<InvalidSettingException>(() => GatewayAddress.FromConfiguration(configuration)).Message);
    }

    // Every shape a real deployment writes: the AppHost's (a password of its own), several servers, IPv6, a Sentinel
    // service, a Unix socket, a container network's name with an underscore.
    [Theory]
    [InlineData("localhost:6379")]
    [InlineData("127.0.0.1:50123,password=Zx9-_~.Qw")]
    [InlineData("redis-0.redis:6379,redis-1.redis:6379,serviceName=mymaster,abortConnect=false")]
    [InlineData("[::1]:6380,ssl=true,sslHost=redis.example.com")]
    [InlineData("::1")]
    [InlineData("!/var/run/redis.sock")]
    [InlineData("chat_redis_1:6379, connectTimeout=5000 ")]
    public void Every_valid_Redis_connection_string_is_taken(string connectionString)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:redis"] = connectionString;

        builder.AddChatRedisClient(); // throws InvalidSettingException for a string the client cannot read
    }
}
