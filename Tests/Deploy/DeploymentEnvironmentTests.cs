using System.Net.Http.Json;
using k8s.Models;
using RealtimeDemo.Contracts;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Deploy;

/// <summary>
/// Each service started as a real process with the environment its Deployment gives it in the cluster (ConfigMap,
/// Secret, env; Production, as in a container) and only the cluster's addresses replaced by local ones: every
/// setting it needs has a source there, its probes answer, and what people do first works.
/// </summary>
public sealed class DeploymentEnvironmentTests
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Theory, MemberData(nameof(KubernetesDeploymentTests.Overlays), MemberType = typeof(KubernetesDeploymentTests))]
    public async Task Every_service_starts_answers_its_probes_and_signs_people_in_with_only_what_its_Deployment_gives_it(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);
        await using var redis = await RedisServerProcess.StartAsync(_ct);
        var password = Password(Environment(overlay, ConnectionNames.Gateway)["ConnectionStrings__redis"]);
        if (password is not null)
        {
            await using var admin = await redis.AdminAsync();
            await admin.GetDatabase().ExecuteAsync("CONFIG", "SET", "requirepass", password);
        }

        await using var gateway = await StartAsync(overlay, ConnectionNames.Gateway, redis, null);
        await using var worker = await StartAsync(overlay, ConnectionNames.Worker, redis, null);
        await using var frontend = await StartAsync(overlay, "webfrontend", redis, gateway.BaseAddress);

        using var http = new HttpClient();
        foreach (var (service, process) in new[] { (ConnectionNames.Gateway, gateway), (ConnectionNames.Worker, worker), ("webfrontend", frontend) })
        {
            var container = Container(overlay, service);
            foreach (var probe in new[] { container.ReadinessProbe, container.LivenessProbe }.OfType<V1Probe>())
            {
                var answer = await http.GetAsync(new Uri(process.BaseAddress, probe.HttpGet.Path), _ct);
                Assert.True(answer.IsSuccessStatusCode, $"{service} answers {probe.HttpGet.Path} with {answer.StatusCode}");
            }
        }

        // Signing in on the page asks the gateway for a token; the ops view reads the snapshot with the frontend's key.
        var token = await http.PostAsJsonAsync(new Uri(gateway.BaseAddress, ChatHubPaths.Token), new TokenRequest("kube-user"), _ct);
        Assert.True(token.IsSuccessStatusCode, $"/auth/token: {token.StatusCode} {await token.Content.ReadAsStringAsync(_ct)}");
        using var snapshot = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseAddress, ChatHubPaths.OpsSnapshot));
        snapshot.Headers.Add(ChatHubPaths.OpsKeyHeader, Environment(overlay, "webfrontend")["Ops__AccessKey"]);
        Assert.True((await http.SendAsync(snapshot, _ct)).IsSuccessStatusCode, "the frontend's ops key does not open the gateway's snapshot");
        Assert.True((await http.GetAsync(frontend.BaseAddress, _ct)).IsSuccessStatusCode);
    }

    private static V1Container Container(RenderedOverlay overlay, string service) =>
        Assert.Single(overlay.Single<V1Deployment>($"{service}-deployment").Spec.Template.Spec.Containers);

    private static IReadOnlyDictionary<string, string> Environment(RenderedOverlay overlay, string service) =>
        overlay.EnvironmentOf(Container(overlay, service), $"{service}-deployment-test");

    private Task<ServiceProcess> StartAsync(RenderedOverlay overlay, string service, RedisServerProcess redis, Uri? gateway)
    {
        var environment = new Dictionary<string, string>(Environment(overlay, service));
        environment.TryAdd("ASPNETCORE_ENVIRONMENT", "Production");
        // Nothing listens there: exports fail (each service logs it once), as with a collector that is down.
        Replace(environment, "OTEL_EXPORTER_OTLP_ENDPOINT", _ => $"http://127.0.0.1:{FreePort.Next()}");
        if (environment.ContainsKey("ConnectionStrings__redis"))
        {
            // Host, port and TLS are the cluster's; the password stays.
            Replace(environment, "ConnectionStrings__redis", value =>
                string.Join(',', value.Split(',').Skip(1).Where(o => !o.StartsWith("ssl=", StringComparison.Ordinal)).Prepend(redis.ConnectionString)));
        }

        if (gateway is not null)
        {
            Replace(environment, $"services__{ConnectionNames.Gateway}__http__0", _ => gateway.ToString().TrimEnd('/'));
        }

        return ServiceProcess.StartAsync(RenderedOverlay.Services[service], environment, _ct);
    }

    private static void Replace(Dictionary<string, string> environment, string key, Func<string, string> local)
    {
        Assert.True(environment.TryGetValue(key, out var value), $"the Deployment gives no {key}");
        environment[key] = local(value);
    }

    private static string? Password(string connectionString) =>
        connectionString.Split(',').FirstOrDefault(o => o.StartsWith("password=", StringComparison.Ordinal))?["password=".Length..];
}
