using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// An OTLP/HTTP (protobuf) endpoint in the test process: services export to it exactly as they export to the
/// Aspire dashboard, and tests read back spans, metric points and log records — and the raw payloads, to
/// prove something never appears in any of them.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();
    private readonly ConcurrentQueue<OtlpMetricPoint> _metrics = new();
    private readonly ConcurrentQueue<OtlpLogRecord> _logs = new();
    private readonly ConcurrentQueue<byte[]> _payloads = new();

    private OtlpReceiver(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public IReadOnlyCollection<OtlpSpan> Spans => _spans;

    public IReadOnlyCollection<OtlpMetricPoint> Metrics => _metrics;

    public IReadOnlyCollection<OtlpLogRecord> Logs => _logs;

    /// <summary>While true, every export is answered 503, as by a collector that is overloaded or restarting.</summary>
    public bool Refusing { get; set; }

    /// <summary>While true, exports are held unanswered (the exporter gives up on each after its timeout), as by a receiver that hangs.</summary>
    public bool Stalling { get; set; }

    /// <summary>Exports answered 503 so far.</summary>
    public int Refused => Volatile.Read(ref _refused);

    private int _refused;

    /// <summary>
    /// Settings that point a service process at this receiver and make it export promptly, with the telemetry settings
    /// the AppHost gives every project it runs (query strings unredacted, the exporter's retry).
    /// </summary>
    public IReadOnlyDictionary<string, string> ExporterSettings(string serviceName) => new Dictionary<string, string>
    {
        ["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true",
        ["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "true",
        ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory",
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_SERVICE_NAME"] = serviceName,
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
    };

    public static async Task<OtlpReceiver> StartAsync(bool refusing = false)
    {
        var endpoint = new Uri($"http://127.0.0.1:{FreePort.Next()}/");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(endpoint.ToString());
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, endpoint) { Refusing = refusing };
        app.MapPost("/v1/traces", (HttpRequest request) => receiver.ReceiveAsync(request, OtlpParser.Spans, receiver._spans));
        app.MapPost("/v1/metrics", (HttpRequest request) => receiver.ReceiveAsync(request, OtlpParser.MetricPoints, receiver._metrics));
        app.MapPost("/v1/logs", (HttpRequest request) => receiver.ReceiveAsync(request, OtlpParser.LogRecords, receiver._logs));
        await app.StartAsync();
        return receiver;
    }

    /// <summary>True when <paramref name="marker"/> appears in any payload received, in any signal.</summary>
    public bool AnyPayloadContains(string marker)
    {
        var bytes = Encoding.UTF8.GetBytes(marker);
        return _payloads.Any(payload => payload.AsSpan().IndexOf(bytes) >= 0);
    }

    /// <summary>Waits until <paramref name="condition"/> holds for what has been received.</summary>
    public async Task WaitUntilAsync(Func<OtlpReceiver, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Within {timeout.TotalSeconds:F0} s the receiver did not get {what}.");
            }

            await Task.Delay(100);
        }
    }

    private async Task<IResult> ReceiveAsync<T>(HttpRequest request, Func<byte[], IEnumerable<T>> parse, ConcurrentQueue<T> into)
    {
        while (Stalling && !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            await Task.Delay(50);
        }

        if (request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty; // the exporter gave up on it
        }

        if (Refusing)
        {
            Interlocked.Increment(ref _refused);
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }

        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var payload = body.ToArray();
        _payloads.Enqueue(payload);
        foreach (var item in parse(payload))
        {
            into.Enqueue(item);
        }

        return Results.Ok();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record OtlpSpan(
    string Service, string? Instance, string Scope, string Name, int Kind, string TraceId, string SpanId, string? ParentSpanId,
    IReadOnlyDictionary<string, object?> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links, int StatusCode, TimeSpan Duration)
{
    public const int KindInternal = 1, KindServer = 2, KindClient = 3, KindProducer = 4, KindConsumer = 5;

    public string? Attribute(string name) => Attributes.TryGetValue(name, out var value) ? value?.ToString() : null;
}

public sealed record OtlpMetricPoint(
    string Service, string? Instance, string Scope, string Name, string Unit, IReadOnlyDictionary<string, object?> Attributes, double Value, ulong Count)
{
    public string? Attribute(string name) => Attributes.TryGetValue(name, out var value) ? value?.ToString() : null;
}

public sealed record OtlpLogRecord(string Service, string Scope, string? Body, IReadOnlyDictionary<string, object?> Attributes);
