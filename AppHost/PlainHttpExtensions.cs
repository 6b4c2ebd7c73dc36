namespace RealtimeDemo.AppHost;

public static class PlainHttpExtensions
{
    /// <summary>
    /// Every project serves plain http only, so none needs a developer certificate; without this, Aspire
    /// warns in the dashboard about an untrusted certificate that nothing uses.
    /// </summary>
    public static IDistributedApplicationBuilder WithoutDeveloperCertificates(this IDistributedApplicationBuilder builder)
    {
#pragma warning disable ASPIRECERTIFICATES001 // experimental: the switch-off for the per-project certificate callback
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project).WithoutHttpsCertificate();
        }
#pragma warning restore ASPIRECERTIFICATES001

        return builder;
    }
}
