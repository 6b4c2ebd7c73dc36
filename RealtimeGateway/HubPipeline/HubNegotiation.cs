using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using RealtimeDemo.Contracts;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Most SignalR clients negotiate before they connect: POST /hubs/chat/negotiate, then the WebSocket with the
/// connection id it handed out (<c>?id=…</c>). Behind a proxy that balances per TCP connection, as the AppHost's
/// and a Kubernetes Service are, the two requests often reach different replicas, and SignalR answers an id its
/// replica did not hand out with a 404. Nothing a WebSocket needs lives in a negotiated connection (WebSockets are
/// the only transport offered, and there is no stateful reconnect), so a WebSocket is served as a new connection
/// whatever id it names, and a negotiate is answered here without creating one: SignalR's would be kept, unused,
/// for 15 s (~3 KB of heap each, bench/findings.md), so a client negotiating in a loop grew a replica's memory with
/// its request rate.
/// </summary>
internal static class HubNegotiation
{
    private const string IdParameter = "id";

    private static readonly AvailableTransport WebSockets = new()
    {
        Transport = nameof(HttpTransportType.WebSockets),
        TransferFormats = [nameof(TransferFormat.Text), nameof(TransferFormat.Binary)],
    };

    /// <summary>Answers a hub's negotiate (POST) as SignalR would for a WebSockets-only endpoint, without a connection behind it.</summary>
    public static Task AnswerWithoutConnection(HttpContext context, RequestDelegate next)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || context.GetEndpoint()?.Metadata.GetMetadata<NegotiateMetadata>() is null)
        {
            return next(context);
        }

        return NegotiateVersion.AnswerAsync(context, Negotiate(context.Request));
    }

    // As SignalR's negotiate, but for the words of its refusal: no version asked for is version 0 (the id is the
    // connection's token), and a later one is answered with ours.
    private static NegotiationResponse Negotiate(HttpRequest request)
    {
        if (!NegotiateVersion.TryRead(request, out var version))
        {
            return new NegotiationResponse { Error = NegotiateVersion.Refusal("this gateway") };
        }

        version = Math.Min(version, NegotiateVersion.Latest);
        return new NegotiationResponse
        {
            Version = version,
            ConnectionId = NewId(),
            ConnectionToken = version > 0 ? NewId() : null,
            AvailableTransports = [WebSockets],
        };
    }

    // Shaped as SignalR's (16 random bytes, base64url); nothing looks them up.
    private static string NewId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// Answers a hub request that is neither a negotiate nor a WebSocket (a long-polling or server-sent-events
    /// client's) in our words: SignalR's would be "No Connection with that ID", as no negotiated id exists here.
    /// So are a negotiate that is not a POST (SignalR's answer had no body) and a WebSocket request with a part
    /// missing (SignalR took it for long polling and answered "Connection ID required").
    /// </summary>
    public static Task RefuseOtherTransports(HttpContext context, RequestDelegate next)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<NegotiateMetadata>() is not null)
        {
            if (HttpMethods.IsPost(context.Request.Method))
            {
                return next(context);
            }

            context.Response.Headers.Allow = HttpMethods.Post;
            return PlainTextAnswer.RefuseAsync(context, StatusCodes.Status405MethodNotAllowed,
                $"A negotiate is a POST request; it cannot be a {Printable(context.Request.Method)}. Clients that skip negotiation open a WebSocket to {ChatHubPaths.Hub} directly.");
        }

        if (RealtimeTelemetry.IsWebSocketUpgrade(context.Request))
        {
            return IsCompleteWebSocketRequest(context)
                ? next(context)
                : PlainTextAnswer.RefuseAsync(context, StatusCodes.Status400BadRequest,
                    "This WebSocket request is incomplete: open it with GET and the headers Connection: Upgrade, Upgrade: websocket, "
                    + "Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key (16 random bytes in base64), as WebSocket clients do.");
        }

        return PlainTextAnswer.RefuseAsync(context, StatusCodes.Status400BadRequest,
            "The chat hub is served over WebSockets only: open a WebSocket to this path (long polling and server-sent events are not offered).");
    }

    // What ASP.NET Core's WebSocket middleware accepts (RFC 6455 section 4.1, or RFC 8441's extended CONNECT on HTTP/2):
    // a request it does not take would reach SignalR as a long-polling one.
    private static bool IsCompleteWebSocketRequest(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpWebSocketFeature>() is { } hosted)
        {
            return hosted.IsWebSocketRequest; // a host that serves WebSockets itself (ASP.NET Core's test server) decides
        }

        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            return string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase) && request.Headers.SecWebSocketVersion == "13";
        }

        Span<byte> key = stackalloc byte[16];
        return HttpMethods.IsGet(request.Method)
            && request.Headers.Connection.Any(value => value?.Contains("upgrade", StringComparison.OrdinalIgnoreCase) == true)
            && request.Headers.SecWebSocketVersion == "13"
            && request.Headers.SecWebSocketKey.ToString() is { Length: 24 } encoded
            && Convert.TryFromBase64String(encoded, key, out var length) && length == 16;
    }

    // A method is a token of letters; anything else a client sent is not repeated back.
    private static string Printable(string method) =>
        method.Length <= 16 && method.All(char.IsAsciiLetter) ? method : "request with another method";

    /// <summary>Drops the negotiated id from a hub WebSocket request, so SignalR serves it as a new connection.</summary>
    // Not async: for a WebSocket the rest of the pipeline is the connection's life, and an awaiting frame here would be kept for it.
    public static Task IgnoreIdOnWebSockets(HttpContext context, RequestDelegate next)
    {
        if (RealtimeTelemetry.IsWebSocketUpgrade(context.Request) && context.Request.Query is var query && query.ContainsKey(IdParameter))
        {
            var rest = new QueryBuilder(query.Where(pair => !string.Equals(pair.Key, IdParameter, StringComparison.OrdinalIgnoreCase)));
            context.Request.QueryString = rest.ToQueryString();
        }

        return next(context);
    }
}
