namespace Aspire.Hosting;

public static class FrontendLinksExtensions
{
    /// <summary>The dashboard's Resources page links straight to the chat and to the operations view.</summary>
    public static IResourceBuilder<ProjectResource> WithChatAndOpsLinks(this IResourceBuilder<ProjectResource> frontend) =>
        frontend
            .WithUrlForEndpoint("http", url => url.DisplayText = "Chat")
            .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = "/ops", DisplayText = "Ops view" });
}
