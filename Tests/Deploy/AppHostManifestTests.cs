using System.Text.Json;
using System.Text.RegularExpressions;
using k8s.Models;
using RealtimeDemo.Contracts;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Deploy;

/// <summary>
/// The AppHost's publish mode (`--publisher manifest`, aspire-manifest.json) and deploy/kubernetes, made by hand
/// from the same model: what the AppHost gives a service, its Deployment gives it too.
/// </summary>
public sealed partial class AppHostManifestTests
{
    // What the AppHost sets that no service reads in a cluster, each with its reason.
    private static readonly Dictionary<string, string> NotDeployed = new()
    {
        ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in-memory export retries for a dashboard that comes and goes; a collector queues and retries itself",
        ["REDIS_HOST"] = "Aspire's connection properties for non-.NET clients; the services read ConnectionStrings__redis",
        ["REDIS_PORT"] = "as REDIS_HOST",
        ["REDIS_PASSWORD"] = "as REDIS_HOST",
        ["REDIS_URI"] = "as REDIS_HOST",
        ["REALTIME_GATEWAY_HTTP"] = "the gateway's URL for non-.NET clients; the frontend reads services__realtime-gateway__http__0",
        ["REALTIME_GATEWAY_HTTPS"] = "no https inside the cluster: TLS ends at the ingress",
        ["services__realtime-gateway__https__0"] = "as REALTIME_GATEWAY_HTTPS",
    };

    private static readonly Lazy<Task<JsonElement>> Manifest = new(PublishAsync);

    [Fact]
    public async Task The_AppHost_publishes_its_manifest_with_Redis_as_the_container_the_local_overlay_runs()
    {
        var resources = (await Manifest.Value).GetProperty("resources");

        var redis = resources.GetProperty(ConnectionNames.Redis);
        Assert.StartsWith("container.", redis.GetProperty("type").GetString());
        var local = await RenderedOverlay.OfAsync("local");
        var image = Assert.Single(local.Single<V1StatefulSet>("redis-statefulset").Spec.Template.Spec.Containers).Image;
        Assert.EndsWith($"/{image}", redis.GetProperty("image").GetString());
        foreach (var (service, project) in RenderedOverlay.Services)
        {
            Assert.Equal("project.v0", resources.GetProperty(service).GetProperty("type").GetString());
            Assert.EndsWith($"{project}/{project}.csproj", resources.GetProperty(service).GetProperty("path").GetString());
        }
    }

    [Theory, MemberData(nameof(KubernetesDeploymentTests.Overlays), MemberType = typeof(KubernetesDeploymentTests))]
    public async Task Every_setting_the_AppHost_gives_a_service_comes_from_its_ConfigMap_and_every_secret_one_from_its_Secret(string name)
    {
        var resources = (await Manifest.Value).GetProperty("resources");
        var overlay = await RenderedOverlay.OfAsync(name);

        foreach (var service in RenderedOverlay.Services.Keys)
        {
            var config = overlay.Single<V1ConfigMap>($"{service}-config").Data;
            var secret = overlay.SecretData($"{service}-secrets");
            foreach (var setting in resources.GetProperty(service).GetProperty("env").EnumerateObject().Where(s => !NotDeployed.ContainsKey(s.Name)))
            {
                if (IsSecret(resources, setting.Value.GetString()!))
                {
                    Assert.True(secret.ContainsKey(setting.Name), $"{service}: {setting.Name} is secret in the AppHost but not in {service}-secrets");
                }
                else
                {
                    Assert.True(config.ContainsKey(setting.Name) || secret.ContainsKey(setting.Name), $"{service}: the AppHost sets {setting.Name}, {service}-config does not");
                }
            }
        }
    }

    // A value is secret when it names a secret parameter, or a connection string made with one (Redis's password).
    private static bool IsSecret(JsonElement resources, string value) =>
        Reference().Matches(value).Any(m => resources.TryGetProperty(m.Groups[1].Value, out var resource) && (
            resource.TryGetProperty("inputs", out var inputs) && inputs.GetProperty("value").TryGetProperty("secret", out var secret) && secret.GetBoolean()
            || m.Groups[2].Value == "connectionString" && IsSecret(resources, resource.GetProperty("connectionString").GetString()!)));

    private static async Task<JsonElement> PublishAsync()
    {
        var output = Directory.CreateTempSubdirectory("realtimedemo-manifest-").FullName;
        try
        {
            var publish = await Command.RunAsync("dotnet", [Repository.ServiceAssembly("AppHost"), "--publisher", "manifest", "--output-path", output],
                Path.Combine(Repository.Root, "AppHost"), CancellationToken.None);
            Assert.True(publish.ExitCode == 0, $"the AppHost did not publish its manifest: {publish}");
            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "aspire-manifest.json")));
            return manifest.RootElement.Clone();
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [GeneratedRegex(@"\{([a-z0-9-]+)\.(value|connectionString)\}")]
    private static partial Regex Reference();
}
