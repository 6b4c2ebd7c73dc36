namespace RealtimeDemo.WebFrontend.Gateway;

/// <summary>
/// What the frontend takes over HTTP: its pages with GET (and HEAD, as uptime checks ask), and under /_blazor the live
/// connection its chat page opens. A request for anything else is refused in our words: unanswered, ASP.NET Core
/// gave a POST to a page an empty 400 (its antiforgery check), a HEAD an empty 404 (Blazor maps GET only), and
/// SignalR answered /_blazor without a connection id "Connection ID required".
/// </summary>
public static class PageRequests
{
    private const string LiveConnectionPath = "/_blazor";

    /// <summary>Where the page's SignalR client negotiates its live connection.</summary>
    internal const string NegotiatePath = LiveConnectionPath + "/negotiate";

    /// <summary>
    /// Refuses methods other than GET and HEAD outside /_blazor, and routes a HEAD as a GET (Kestrel sends no body
    /// in answer to a HEAD whatever is written). Goes before routing, which it adds.
    /// </summary>
    public static WebApplication UsePageMethodsThenRouting(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var request = context.Request;
            if (HttpMethods.IsGet(request.Method) || request.Path.StartsWithSegments(LiveConnectionPath) || IsReExecuted(context))
            {
                return next(context); // an error page for a failed request keeps that request's method
            }

            if (HttpMethods.IsHead(request.Method))
            {
                request.Method = HttpMethods.Get;
                return next(context);
            }

            context.Response.Headers.Allow = "GET, HEAD";
            return PlainTextAnswer.RefuseAsync(context, StatusCodes.Status405MethodNotAllowed,
                "The chat frontend's pages are read with GET: open them in a browser. Nothing here takes a form or an upload.");
        });
        app.UseRouting();
        return app;
    }

    /// <summary>
    /// Words the refusals of the live connection's endpoints (SignalR's, under /_blazor) as ours; a browser's
    /// SignalR client acts on their status alone. Goes after the rate limiter, whose refusal is already ours.
    /// </summary>
    public static WebApplication UseLiveConnectionRefusalsInOurWords(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(LiveConnectionPath), branch => branch.Use(async (context, next) =>
        {
            // Answered with 200 as SignalR answers it, which a client reports; SignalR's own sentence does not say what it takes.
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments(NegotiatePath)
                && !NegotiateVersion.TryRead(context.Request, out _))
            {
                await NegotiateVersion.AnswerAsync(context, new() { Error = NegotiateVersion.Refusal("the chat page's live connection") });
                return;
            }

            if (RealtimeTelemetry.IsWebSocketUpgrade(context.Request))
            {
                await next(context); // the connection's life; a refused upgrade is a status its client acts on
                return;
            }

            var body = context.Response.Body;
            var refusal = new RefusalHeldBack(body, context.Response);
            context.Response.Body = refusal;
            try
            {
                await next(context);
                await context.Response.BodyWriter.FlushAsync(); // what SignalR wrote through the pipe over our stream
            }
            finally
            {
                context.Response.Body = body;
            }

            var status = context.Response.StatusCode;
            if (status is >= 400 and < 500 && !context.Response.HasStarted)
            {
                await PlainTextAnswer.RefuseAsync(context, status, status == StatusCodes.Status404NotFound
                    ? "This live connection of the chat page has ended, or never was: reload the page to open a new one."
                    : "This address is the chat page's live connection, which the page opens itself; this request is not one it takes. Open / in a browser.");
            }
        }));
        return app;
    }

    private static bool IsReExecuted(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>() is not null
        || context.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodeReExecuteFeature>() is not null;

    /// <summary>
    /// Passes a response body through, unless its status is a client error: then what SignalR wrote is dropped, so
    /// that the sentence can be written in its place (nothing has gone out yet).
    /// </summary>
    private sealed class RefusalHeldBack(Stream inner, HttpResponse response) : Stream
    {
        private bool Refusing => response.StatusCode is >= 400 and < 500;

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (!Refusing)
            {
                inner.Write(buffer, offset, count);
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            Refusing ? ValueTask.CompletedTask : inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
            if (!Refusing)
            {
                inner.Flush();
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) =>
            Refusing ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
