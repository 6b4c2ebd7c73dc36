using Microsoft.Extensions.DependencyInjection;

namespace RealtimeDemo.AppHost;

/// <summary>The Aspire dashboard as a resource, for callbacks that hand its addresses to a service.</summary>
internal static class AspireDashboard
{
    private const string ResourceName = "aspire-dashboard";

    /// <summary>
    /// The dashboard joins the model only as the app starts, so it is looked up in an environment callback; null when
    /// it is off (as in most tests) or in publish mode.
    /// </summary>
    public static IResourceWithEndpoints? Find(EnvironmentCallbackContext context) =>
        context.ExecutionContext.IsRunMode
        && context.ExecutionContext.Services.GetRequiredService<DistributedApplicationModel>().Resources.TryGetByName(ResourceName, out var resource)
            ? resource as IResourceWithEndpoints
            : null;
}
