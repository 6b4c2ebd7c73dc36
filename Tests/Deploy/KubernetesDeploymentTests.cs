using System.Text;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using RealtimeDemo.Contracts;
using RealtimeDemo.RealtimeGateway.Chat;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Deploy;

/// <summary>deploy/kubernetes rendered per overlay with kubectl kustomize: what a platform team gets when they apply it.</summary>
public sealed class KubernetesDeploymentTests
{
    public static readonly TheoryData<string> Overlays = ["local", "production"];

    [Theory, MemberData(nameof(Overlays))]
    public async Task Every_service_has_the_Deployment_ConfigMap_and_Secret_Aspire_would_name_and_label(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);

        foreach (var service in RenderedOverlay.Services.Keys)
        {
            var deployment = overlay.Single<V1Deployment>($"{service}-deployment");
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            Assert.Equal([$"{service}-config", $"{service}-secrets"], container.EnvFrom.Select(e => e.ConfigMapRef?.Name ?? e.SecretRef.Name));
            overlay.Single<V1ConfigMap>($"{service}-config");
            overlay.Single<V1Secret>($"{service}-secrets");
            Assert.All(deployment.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, deployment.Spec.Template.Metadata.Labels[label.Key]));
        }

        Assert.All(overlay.Objects, o =>
        {
            Assert.Equal("realtimedemo", o.Metadata.Labels["app.kubernetes.io/name"]);
            Assert.Equal(name, o.Metadata.Labels["app.kubernetes.io/instance"]);
            Assert.Contains(o.Metadata.Labels["app.kubernetes.io/component"], RenderedOverlay.Services.Keys.Append(ConnectionNames.Redis));
            Assert.StartsWith(o.Metadata.Labels["app.kubernetes.io/component"] + "-", o.Metadata.Name);
        });

        // Each Service reaches the pods of its own component, and only those.
        foreach (var service in overlay.All<V1Service>())
        {
            var component = service.Metadata.Labels["app.kubernetes.io/component"];
            var selected = overlay.Objects.Where(o => PodLabels(o) is { } labels && service.Spec.Selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value));
            Assert.Equal(component, Assert.Single(selected).Metadata.Labels["app.kubernetes.io/component"]);
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public async Task The_gateway_keeps_two_replicas_through_drains_and_rollouts_and_its_grace_period_covers_the_drain(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);
        var gateway = overlay.Single<V1Deployment>("realtime-gateway-deployment");
        var pod = gateway.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);

        Assert.True(gateway.Spec.Replicas >= 2);
        Assert.Equal("0", gateway.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        var autoscaler = overlay.Single<V2HorizontalPodAutoscaler>("realtime-gateway-hpa");
        Assert.Equal(gateway.Metadata.Name, autoscaler.Spec.ScaleTargetRef.Name);
        Assert.True(autoscaler.Spec.MinReplicas >= 2);
        Assert.NotNull(container.Resources.Requests["cpu"]); // CPU utilization is measured against the request
        var budget = overlay.Single<V1PodDisruptionBudget>("realtime-gateway-pdb");
        Assert.Equal("1", budget.Spec.MaxUnavailable.Value);
        Assert.All(budget.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, gateway.Spec.Template.Metadata.Labels[label.Key]));

        // SIGTERM comes after the preStop sleep; the host then drains for up to its shutdown timeout.
        var drain = int.Parse(overlay.Single<V1ConfigMap>("realtime-gateway-config").Data["DOTNET_SHUTDOWNTIMEOUTSECONDS"]);
        var preStop = container.Lifecycle.PreStop.Sleep.Seconds;
        Assert.True(preStop >= 5, "endpoints need a few seconds to leave the Service and the ingress");
        Assert.True(pod.TerminationGracePeriodSeconds >= preStop + drain,
            $"grace {pod.TerminationGracePeriodSeconds} s < preStop {preStop} s + drain {drain} s: the kubelet would kill the drain");
    }

    [Theory, MemberData(nameof(Overlays))]
    public async Task Probes_use_the_paths_the_services_map_and_liveness_never_depends_on_Redis(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);

        foreach (var service in RenderedOverlay.Services.Keys)
        {
            var container = Assert.Single(overlay.Single<V1Deployment>($"{service}-deployment").Spec.Template.Spec.Containers);
            // /health includes Redis: as liveness, a Redis outage would restart every pod at once.
            Assert.Equal(Extensions.AlivenessEndpointPath, container.LivenessProbe.HttpGet.Path);
            Assert.Contains(container.Ports, p => p.Name == container.LivenessProbe.HttpGet.Port.Value);
            if (service != ConnectionNames.Worker)
            {
                Assert.Equal(Extensions.HealthEndpointPath, container.ReadinessProbe.HttpGet.Path);
            }
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public async Task The_ingress_sends_the_hub_and_tokens_to_any_gateway_and_keeps_a_browser_on_the_frontend_pod(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);
        var gateway = overlay.Single<V1Ingress>("realtime-gateway-ingress");
        var frontend = overlay.Single<V1Ingress>("webfrontend-ingress");

        var paths = Assert.Single(gateway.Spec.Rules).Http.Paths;
        Assert.Equal([(ChatHubPaths.Hub, "Prefix"), (ChatHubPaths.Token, "Exact")], paths.Select(p => (p.Path, p.PathType)));
        Assert.All(paths, p => Assert.Equal("realtime-gateway-service", p.Backend.Service.Name));
        Assert.DoesNotContain(gateway.Metadata.Annotations.Keys, key => key.Contains("affinity"));
        // A live connection is never quiet for longer than the client timeout; the proxy must not cut it sooner.
        var quietest = new ChatLimits().ClientTimeoutInterval.TotalSeconds;
        foreach (var ingress in new[] { gateway, frontend })
        {
            Assert.True(int.Parse(ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > 2 * quietest);
            Assert.True(int.Parse(ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) > 2 * quietest);
        }

        // Blazor Server: one replica, and a browser pinned by cookie while a rollout runs two side by side.
        Assert.Equal(1, overlay.Single<V1Deployment>("webfrontend-deployment").Spec.Replicas);
        Assert.Equal("cookie", frontend.Metadata.Annotations["nginx.ingress.kubernetes.io/affinity"]);
        Assert.Equal("webfrontend-service", Assert.Single(Assert.Single(frontend.Spec.Rules).Http.Paths).Backend.Service.Name);

        // The hub admits browser pages from the origin the ingress serves, and only that one.
        var rule = Assert.Single(gateway.Spec.Rules);
        var origin = $"{(gateway.Spec.Tls?.Any(t => t.Hosts.Contains(rule.Host)) == true ? "https" : "http")}://{rule.Host ?? "localhost"}";
        Assert.Equal(origin, overlay.Single<V1ConfigMap>("realtime-gateway-config").Data["Chat__AllowedOrigins__0"]);
        Assert.Equal(rule.Host, Assert.Single(frontend.Spec.Rules).Host);
    }

    [Theory, MemberData(nameof(Overlays))]
    public async Task Only_the_ingress_controller_and_the_frontend_reach_the_gateway(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);
        var policy = overlay.Single<V1NetworkPolicy>("realtime-gateway-network-policy");
        var selects = (IDictionary<string, string> selector) =>
            overlay.Objects.Where(o => PodLabels(o) is { } labels && selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value))
                .Select(o => o.Metadata.Name).ToList();

        // The gateway's pods, and no other, accept only what the rule lists (the /auth/token limit trusts X-Forwarded-For).
        Assert.Equal(["realtime-gateway-deployment"], selects(policy.Spec.PodSelector.MatchLabels));
        Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
        var rule = Assert.Single(policy.Spec.Ingress);
        Assert.Equal(2, rule.FromProperty.Count);
        Assert.Contains(rule.FromProperty, peer => peer.PodSelector is null
            && peer.NamespaceSelector?.MatchLabels is { Count: 1 } ns && ns["kubernetes.io/metadata.name"] == "ingress-nginx");
        var frontend = Assert.Single(rule.FromProperty, peer => peer.PodSelector is not null);
        Assert.Null(frontend.NamespaceSelector);
        Assert.Equal(["webfrontend-deployment"], selects(frontend.PodSelector.MatchLabels));
        var port = Assert.Single(rule.Ports);
        var served = Assert.Single(Assert.Single(overlay.Single<V1Deployment>("realtime-gateway-deployment").Spec.Template.Spec.Containers).Ports);
        Assert.Equal(served.Name, port.Port.Value);
    }

    [Theory, MemberData(nameof(Overlays))]
    public async Task No_secret_value_is_inline_and_none_is_in_the_repository(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);
        Assert.NotEmpty(overlay.SecretFileValues);

        var secretKeys = overlay.All<V1Secret>().SelectMany(s => s.Data.Keys).ToHashSet();
        foreach (var (obj, yaml) in overlay.Documents.Where(d => d.Object is not V1Secret))
        {
            foreach (var (file, value) in overlay.SecretFileValues)
            {
                Assert.False(yaml.Contains(value) || yaml.Contains(Convert.ToBase64String(Encoding.UTF8.GetBytes(value))),
                    $"{obj.GetType().Name} holds the value of {file}");
            }

            if (obj is V1ConfigMap map && map.Data.Keys.Intersect(secretKeys).ToList() is [_, ..] shared)
            {
                Assert.Fail($"{map.Metadata.Name} sets {string.Join(", ", shared)}, which belong in a Secret");
            }
        }

        // Every secret value the services read arrives through a Secret.
        Assert.All(overlay.SecretFileValues, secret => Assert.Contains(overlay.All<V1Secret>(), s => s.Data.Values.Any(v => Encoding.UTF8.GetString(v) == secret.Value)));
        var tracked = await Command.RunAsync("git", ["ls-files", "deploy"], Repository.Root, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(tracked.Output.Split('\n'), path => path.Contains("/secrets/") || path.EndsWith(".env"));
        var ignored = await Command.RunAsync("git", ["check-ignore", "-q", $"deploy/kubernetes/overlays/{name}/secrets/realtime-gateway.env"], Repository.Root, TestContext.Current.CancellationToken);
        Assert.True(ignored.ExitCode == 0, "git would offer the overlay's secrets for commit");
    }

    [Theory, MemberData(nameof(Overlays))]
    public async Task Every_service_exports_telemetry_to_the_collector_its_ConfigMap_names(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);

        var endpoints = RenderedOverlay.Services.Keys.Select(service =>
        {
            var data = overlay.Single<V1ConfigMap>($"{service}-config").Data;
            Assert.Equal(service, data["OTEL_SERVICE_NAME"]);
            Assert.DoesNotContain(Assert.Single(overlay.Single<V1Deployment>($"{service}-deployment").Spec.Template.Spec.Containers).Env,
                e => e.Name.StartsWith("OTEL_EXPORTER", StringComparison.Ordinal));
            return new Uri(data["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        });

        Assert.Single(endpoints.Distinct());
    }

    [Theory, MemberData(nameof(Overlays))]
    public async Task Each_Deployment_runs_the_image_its_project_publishes(string name)
    {
        var overlay = await RenderedOverlay.OfAsync(name);

        foreach (var (service, project) in RenderedOverlay.Services)
        {
            var repository = System.Xml.Linq.XDocument.Load(Path.Combine(Repository.Root, project, $"{project}.csproj"))
                .Descendants("ContainerRepository").Single().Value;
            var image = Assert.Single(overlay.Single<V1Deployment>($"{service}-deployment").Spec.Template.Spec.Containers).Image;
            Assert.Equal(repository, image[..image.LastIndexOf(':')]);
        }
    }

    [Fact]
    public async Task Local_Redis_keeps_an_append_only_file_on_a_volume_behind_a_password_from_its_Secret()
    {
        var overlay = await RenderedOverlay.OfAsync("local");
        var redis = overlay.Single<V1StatefulSet>("redis-statefulset");
        var container = Assert.Single(redis.Spec.Template.Spec.Containers);

        var claim = Assert.Single(redis.Spec.VolumeClaimTemplates);
        Assert.Equal("/data", Assert.Single(container.VolumeMounts, m => m.Name == claim.Metadata.Name).MountPath);
        var config = overlay.Single<V1ConfigMap>("redis-config").Data["redis.conf"];
        Assert.Contains("appendonly yes", config);
        Assert.Contains("dir /data", config);
        Assert.Equal(["--requirepass", "$(REDIS_PASSWORD)"], container.Args.Skip(2));

        // The services reach it through its Service, with the password it was given.
        var service = overlay.Single<V1Service>("redis-service");
        var password = overlay.SecretData("redis-secrets")["REDIS_PASSWORD"];
        foreach (var client in new[] { ConnectionNames.Gateway, ConnectionNames.Worker })
        {
            Assert.Equal($"{service.Metadata.Name}:{service.Spec.Ports.Single().Port},password={password}",
                overlay.SecretData($"{client}-secrets")["ConnectionStrings__redis"]);
        }
    }

    [Fact]
    public async Task Production_runs_no_Redis_and_uses_the_connection_string_its_operator_gave()
    {
        var overlay = await RenderedOverlay.OfAsync("production");

        Assert.Empty(overlay.All<V1StatefulSet>());
        Assert.DoesNotContain(overlay.Objects, o => o.Metadata.Labels["app.kubernetes.io/component"] == ConnectionNames.Redis);
        foreach (var client in new[] { ConnectionNames.Gateway, ConnectionNames.Worker })
        {
            Assert.Equal(RenderedOverlay.ExternalRedis, overlay.SecretData($"{client}-secrets")["ConnectionStrings__redis"]);
        }
    }

    private static IDictionary<string, string>? PodLabels(object workload) => workload switch
    {
        V1Deployment d => d.Spec.Template.Metadata.Labels,
        V1StatefulSet s => s.Spec.Template.Metadata.Labels,
        _ => null,
    };
}
