namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>A real redis-server and gateway processes on it, as the AppHost runs them but without the proxy.</summary>
public sealed class GatewayCluster : IAsyncDisposable
{
    public const string SigningKey = "tests-only-signing-key-0123456789-abcdefghij";
    public const string OpsAccessKey = "tests-only-ops-access-key-0123456789-abcdefghij";

    private readonly List<ServiceProcess> _workers = [];
    private readonly IReadOnlyDictionary<string, string>? _settings;

    private GatewayCluster(RedisServerProcess redis, IReadOnlyList<ServiceProcess> gateways, IReadOnlyDictionary<string, string>? settings)
    {
        Redis = redis;
        Gateways = gateways;
        _settings = settings;
    }

    public RedisServerProcess Redis { get; }

    public IReadOnlyList<ServiceProcess> Gateways { get; }

    public ServiceProcess A => Gateways[0];

    public ServiceProcess B => Gateways[1];

    /// <summary>Starts redis-server and <paramref name="gateways"/> gateway processes named gateway-a, gateway-b, …</summary>
    public static async Task<GatewayCluster> StartAsync(int gateways, IReadOnlyDictionary<string, string>? settings, CancellationToken cancellationToken)
    {
        var redis = await RedisServerProcess.StartAsync(cancellationToken);
        var started = new List<ServiceProcess>();
        try
        {
            // One at a time: on two cores parallel .NET start-ups only slow each other down.
            for (var i = 0; i < gateways; i++)
            {
                started.Add(await ServiceProcess.StartAsync("RealtimeGateway", Environment(redis, $"gateway-{(char)('a' + i)}", settings), cancellationToken));
            }

            return new GatewayCluster(redis, started, settings);
        }
        catch
        {
            await new GatewayCluster(redis, started, settings).DisposeAsync();
            throw;
        }
    }

    private static Dictionary<string, string> Environment(RedisServerProcess redis, string replica, IReadOnlyDictionary<string, string>? settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__redis"] = redis.ConnectionString,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={replica}",
            ["Auth__SigningKey"] = SigningKey,
            ["Ops__AccessKey"] = OpsAccessKey,
            // Dead-replica cleanup within a few seconds keeps the recovery tests short.
            ["Chat__Registry__ReplicaTimeout"] = "00:00:03",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return environment;
    }

    /// <summary>
    /// Starts a chat-worker process on this cluster's Redis, with the cluster's settings (OTLP ones included)
    /// and quick recovery (entries idle 1 s are claimed, 3 attempts before the dead-letter stream).
    /// </summary>
    public async Task<ServiceProcess> StartWorkerAsync(string name, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? settings = null,
        bool untilHealthy = true)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__redis"] = Redis.ConnectionString,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={name}",
            ["Worker__ClaimIdleTime"] = "00:00:01",
            ["Worker__MaxAttempts"] = "3",
            ["Worker__BlockTime"] = "00:00:00.200",
        };
        foreach (var (key, value) in (_settings ?? new Dictionary<string, string>()).Concat(settings ?? new Dictionary<string, string>()))
        {
            environment[key] = value;
        }

        if (environment.TryGetValue("OTEL_SERVICE_NAME", out var service) && service == "realtime-gateway")
        {
            environment["OTEL_SERVICE_NAME"] = "chat-worker";
        }

        var worker = await ServiceProcess.StartAsync("ChatWorker", environment, cancellationToken, untilHealthy);
        _workers.Add(worker);
        return worker;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        foreach (var gateway in Gateways.Reverse())
        {
            await gateway.DisposeAsync();
        }

        await Redis.DisposeAsync();
    }
}

/// <summary>Two gateways shared by a test class whose tests do not break anything (each uses its own rooms and users).</summary>
public sealed class TwoGatewaysFixture : IAsyncLifetime
{
    private GatewayCluster? _cluster;

    public GatewayCluster Cluster => _cluster!;

    public async ValueTask InitializeAsync() =>
        _cluster = await GatewayCluster.StartAsync(2, null, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
