namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>One real redis-server and two gateway processes on it, shared by a test class (tests use their own rooms).</summary>
public sealed class TwoGatewaysFixture : IAsyncLifetime
{
    public RedisServerProcess Redis { get; private set; } = null!;

    public ServiceProcess GatewayA { get; private set; } = null!;

    public ServiceProcess GatewayB { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Redis = await RedisServerProcess.StartAsync(ct);
        GatewayA = await StartGatewayAsync("gateway-a", ct);
        GatewayB = await StartGatewayAsync("gateway-b", ct);
    }

    public Task<ServiceProcess> StartGatewayAsync(string replica, CancellationToken ct) =>
        ServiceProcess.StartAsync("RealtimeGateway", new Dictionary<string, string>
        {
            ["ConnectionStrings__redis"] = Redis.ConnectionString,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={replica}",
        }, ct);

    public async ValueTask DisposeAsync()
    {
        if (GatewayB is not null) await GatewayB.DisposeAsync();
        if (GatewayA is not null) await GatewayA.DisposeAsync();
        if (Redis is not null) await Redis.DisposeAsync();
    }
}
