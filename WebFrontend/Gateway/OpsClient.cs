using RealtimeDemo.Contracts;

namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// Reads the gateway's GET /ops/snapshot for the operations view, with the ops access key the AppHost gives
/// both (Ops:AccessKey): looking at the cluster needs no chat sign-in, and a chat token alone cannot.
/// </summary>
public sealed class OpsClient(HttpClient http, IConfiguration configuration)
{
    public async Task<OpsSnapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ChatHubPaths.OpsSnapshot);
        request.Headers.Add(ChatHubPaths.OpsKeyHeader, configuration["Ops:AccessKey"]
            ?? throw new InvalidSettingException("Ops:AccessKey is not set: run under the AppHost, which generates it, or set Ops__AccessKey as for the gateway."));
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable
            && response.Content.Headers.ContentType?.MediaType == "application/problem+json"
            && await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(cancellationToken) is { Title: { Length: > 0 } title })
        {
            throw new OpsSnapshotUnavailableException(title); // the gateway is up and says why it cannot answer
        }

        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<OpsSnapshot>(cancellationToken))!;
    }
}

/// <summary>The gateway answered but could not read the snapshot; the message is its sentence.</summary>
public sealed class OpsSnapshotUnavailableException(string message) : Exception(message);

public static class OpsViewExtensions
{
    public const string Path = "/ops";

    /// <summary>Answers /ops with a 404 in our words where the ops view is off (Frontend:OpsView), before Blazor sees it.</summary>
    public static IApplicationBuilder UseOpsViewOnlyWhereOn(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(Path)
                && !context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<FrontendOptions>>().Value.OpsView)
            {
                await PlainTextAnswer.RefuseAsync(context, StatusCodes.Status404NotFound,
                    "The ops view is off on this frontend (Frontend:OpsView). Operators read GET /ops/snapshot on the gateway with the ops access key.");
                return;
            }

            await next(context);
        });
}
