using Microsoft.AspNetCore.Http.Extensions;

namespace RealtimeDemo.RealtimeGateway.HubPipeline;

/// <summary>
/// Most SignalR clients negotiate before they connect: POST /hubs/chat/negotiate, then the WebSocket with the
/// connection id it handed out (<c>?id=…</c>). Behind a proxy that balances per TCP connection, as the AppHost's
/// and a Kubernetes Service are, the two requests often reach different replicas, and SignalR answers an id its
/// replica did not hand out with a 404. Nothing a WebSocket needs lives in the negotiated connection (WebSockets
/// are the only transport offered, and there is no stateful reconnect), so a WebSocket is served as a new
/// connection whatever id it names; the negotiated one, never used, expires on its own (SignalR's 15 s).
/// </summary>
internal static class NegotiatedConnectionId
{
    private const string Parameter = "id";

    // Not async: for a WebSocket the rest of the pipeline is the connection's life, and an awaiting frame here would be kept for it.
    public static Task IgnoreOnWebSockets(HttpContext context, RequestDelegate next)
    {
        if (RealtimeTelemetry.IsWebSocketUpgrade(context.Request) && context.Request.Query is var query && query.ContainsKey(Parameter))
        {
            var rest = new QueryBuilder(query.Where(pair => !string.Equals(pair.Key, Parameter, StringComparison.OrdinalIgnoreCase)));
            context.Request.QueryString = rest.ToQueryString();
        }

        return next(context);
    }
}
