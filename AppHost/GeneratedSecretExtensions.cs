namespace RealtimeDemo.AppHost;

public static class GeneratedSecretExtensions
{
    /// <summary>
    /// A secret parameter that a fresh clone does not have to configure: generated on first run and kept in
    /// the AppHost's user secrets, so tokens stay valid across restarts. Setting Parameters:{name} overrides it.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddGeneratedSecret(this IDistributedApplicationBuilder builder, [ResourceName] string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);
}
