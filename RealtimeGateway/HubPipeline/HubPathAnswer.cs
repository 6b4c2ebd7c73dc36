namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// How the hub's path refuses an HTTP request: one sentence of plain text, as its token refusals are (a SignalR
/// client's request asks for no JSON, and the sentence is all there is to say). Never sniffed as a page: a sentence
/// may quote what the client sent.
/// </summary>
internal static class HubPathAnswer
{
    public static Task RefuseAsync(HttpContext context, int status, string sentence)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.XContentTypeOptions = "nosniff";
        return response.WriteAsync(sentence);
    }
}
