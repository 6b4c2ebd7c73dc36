using Microsoft.Extensions.DependencyInjection;

namespace RealtimeDemo.AppHost;

public static class FrontendLinksExtensions
{
    /// <summary>The dashboard's Resources page links straight to the chat, the operations view and the JavaScript client's page.</summary>
    public static IResourceBuilder<ProjectResource> WithPageLinks(this IResourceBuilder<ProjectResource> frontend) =>
        frontend
            .WithUrlForEndpoint("http", url => url.DisplayText = "Chat")
            .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = "/ops", DisplayText = "Ops view" })
            .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = "/js", DisplayText = "JavaScript client" });

    /// <summary>
    /// Gives the frontend the dashboard's address (Dashboard__Url), so each chat message can link to its trace and
    /// the ops view to each replica. The dashboard joins the model only as the app starts, so it is looked up then;
    /// without one (turned off, as in most tests) the variable is absent and the pages show no links.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDashboardLinks(this IResourceBuilder<ProjectResource> frontend) =>
        frontend.WithEnvironment(context =>
        {
            var model = context.ExecutionContext.Services.GetRequiredService<DistributedApplicationModel>();
            if (context.ExecutionContext.IsRunMode
                && model.Resources.TryGetByName(DashboardResourceName, out var resource) && resource is IResourceWithEndpoints dashboard
                && (dashboard.GetEndpoint("https") is { Exists: true } https ? https : dashboard.GetEndpoint("http")) is { Exists: true } ui)
            {
                context.EnvironmentVariables["Dashboard__Url"] = ui;
            }
        });

    private const string DashboardResourceName = "aspire-dashboard";
}
