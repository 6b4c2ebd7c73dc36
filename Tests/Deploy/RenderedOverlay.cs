using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using RealtimeDemo.Contracts;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Deploy;

/// <summary>
/// One overlay of deploy/kubernetes as `kubectl kustomize` renders it for a user, with the Secrets' values written by
/// the overlay's own script (new-secrets.sh) in a copy of the folder, every object loaded as its typed model.
/// </summary>
public sealed partial class RenderedOverlay
{
    /// <summary>What the production overlay's Redis connection string is given in these tests (an operator's external Redis).</summary>
    public const string ExternalRedis = "redis.internal.test:6380,password=external-redis-password-for-tests,ssl=true";

    /// <summary>The services deploy/kubernetes runs: their Aspire resource names (as in the AppHost) and projects.</summary>
    public static readonly IReadOnlyDictionary<string, string> Services = new Dictionary<string, string>
    {
        [ConnectionNames.Gateway] = "RealtimeGateway",
        [ConnectionNames.Worker] = "ChatWorker",
        ["webfrontend"] = "WebFrontend",
    };

    private static readonly ConcurrentDictionary<string, Task<RenderedOverlay>> Cache = new();

    private RenderedOverlay(string name, IReadOnlyList<(object Object, string Yaml)> documents, IReadOnlyDictionary<string, string> secretFiles)
    {
        Name = name;
        Documents = documents;
        SecretFileValues = secretFiles;
    }

    public string Name { get; }

    /// <summary>Every rendered object with the YAML text it was rendered as.</summary>
    public IReadOnlyList<(object Object, string Yaml)> Documents { get; }

    /// <summary>Every value new-secrets.sh wrote (file/key → value): the values that must appear in Secrets only.</summary>
    public IReadOnlyDictionary<string, string> SecretFileValues { get; }

    public IEnumerable<IKubernetesObject<V1ObjectMeta>> Objects => Documents.Select(d => d.Object).OfType<IKubernetesObject<V1ObjectMeta>>();

    public T Single<T>(string name) where T : IKubernetesObject<V1ObjectMeta> =>
        Assert.Single(Objects.OfType<T>(), o => o.Metadata.Name == name);

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public static Task<RenderedOverlay> OfAsync(string name) => Cache.GetOrAdd(name, RenderAsync);

    /// <summary>A container's environment as the kubelet assembles it: ConfigMaps and Secrets (envFrom), then env with $(VAR) references.</summary>
    public IReadOnlyDictionary<string, string> EnvironmentOf(V1Container container, string podName)
    {
        var environment = new Dictionary<string, string>();
        foreach (var source in container.EnvFrom ?? [])
        {
            IEnumerable<KeyValuePair<string, string>> values = source.ConfigMapRef is { } map
                ? Single<V1ConfigMap>(map.Name).Data ?? new Dictionary<string, string>()
                : SecretData(source.SecretRef.Name);
            foreach (var (key, value) in values)
            {
                environment[key] = value;
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            environment[variable.Name] = variable.ValueFrom switch
            {
                null => VariableReference().Replace(variable.Value ?? "", m => environment.GetValueOrDefault(m.Groups[1].Value, m.Value)),
                { FieldRef.FieldPath: "metadata.name" } => podName,
                { SecretKeyRef: { } key } => SecretData(key.Name)[key.Key],
                { ConfigMapKeyRef: { } key } => Single<V1ConfigMap>(key.Name).Data[key.Key],
                var other => throw new NotSupportedException($"env {variable.Name}: {other}"),
            };
        }

        return environment;
    }

    public IReadOnlyDictionary<string, string> SecretData(string name) =>
        (Single<V1Secret>(name).Data ?? new Dictionary<string, byte[]>()).ToDictionary(p => p.Key, p => Encoding.UTF8.GetString(p.Value));

    private static async Task<RenderedOverlay> RenderAsync(string name)
    {
        var ct = CancellationToken.None; // shared by every test that asks for this overlay
        var copy = Directory.CreateTempSubdirectory("realtimedemo-kustomize-").FullName;
        try
        {
            // A copy without any secrets/ a developer made locally: what a fresh clone renders.
            CopyDirectory(Path.Combine(Repository.Root, "deploy", "kubernetes"), copy);
            var secrets = await Command.RunAsync("bash", ["new-secrets.sh", name], copy, ct,
                new Dictionary<string, string> { ["REDIS_CONNECTION_STRING"] = ExternalRedis });
            Assert.True(secrets.ExitCode == 0, $"new-secrets.sh {name} failed: {secrets}");

            var render = await Command.RunAsync("kubectl", ["kustomize", Path.Combine("overlays", name)], copy, ct);
            Assert.True(render.ExitCode == 0, $"kubectl kustomize overlays/{name} failed: {render}");

            var documents = render.Output.Split("\n---\n", StringSplitOptions.RemoveEmptyEntries)
                .Select(yaml => (Assert.Single(KubernetesYaml.LoadAllFromString(yaml, null, true)), yaml))
                .ToList();
            return new RenderedOverlay(name, documents, ReadSecretFiles(Path.Combine(copy, "overlays", name, "secrets")));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static Dictionary<string, string> ReadSecretFiles(string directory) =>
        Directory.GetFiles(directory, "*.env")
            .SelectMany(file => File.ReadAllLines(file).Where(line => line.Contains('='))
                .Select(line => (Key: $"{Path.GetFileName(file)}/{line[..line.IndexOf('=')]}", Value: line[(line.IndexOf('=') + 1)..])))
            .ToDictionary(p => p.Key, p => p.Value);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories).Where(d => Path.GetFileName(d) != "secrets"))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(from, f).Split(Path.DirectorySeparatorChar).Contains("secrets")))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex VariableReference();
}
