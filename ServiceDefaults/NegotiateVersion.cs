using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The negotiate version a SignalR client asks for (the gateway's hub, the frontend's live connection): none is 0, a
/// later one than SignalR's is answered with SignalR's, and one that is not a whole number from 0 is an error the
/// client reports, in the negotiate's answer with 200 as SignalR gives it. SignalR's own words for that ("a non-integer
/// protocol version", "the server does not support this version") do not say what it must be; ours do.
/// </summary>
public static class NegotiateVersion
{
    public const string Parameter = "negotiateVersion";
    public const int Latest = 1;

    /// <summary>The version asked for (one value, a whole number from 0), or false.</summary>
    public static bool TryRead(HttpRequest request, out int version)
    {
        version = 0;
        var asked = request.Query[Parameter];
        return asked.Count == 0 || (asked.Count == 1 && int.TryParse(asked[0], out version) && version >= 0);
    }

    /// <param name="speaker">what answers, e.g. "this gateway"</param>
    public static string Refusal(string speaker) => $"{Parameter} must be a whole number from 0; {speaker} speaks versions 0 and {Latest}.";

    public static Task AnswerAsync(HttpContext context, NegotiationResponse answer)
    {
        var payload = new ArrayBufferWriter<byte>(256);
        NegotiateProtocol.WriteResponse(answer, payload);
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = payload.WrittenCount;
        return context.Response.Body.WriteAsync(payload.WrittenMemory, context.RequestAborted).AsTask();
    }
}
