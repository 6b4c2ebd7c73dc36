using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// How a request the services do not take is refused where no page or problem document fits (the gateway's hub path,
/// the frontend's pages and live connection): one sentence of plain text. A SignalR client's request asks for no
/// JSON, and the sentence is all there is to say. Never sniffed as a page: a sentence may quote what the client sent.
/// </summary>
public static class PlainTextAnswer
{
    public static Task RefuseAsync(HttpContext context, int status, string sentence)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.XContentTypeOptions = "nosniff";
        return response.WriteAsync(sentence, context.RequestAborted);
    }
}
