using System.Text.Json;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Spans as the Aspire dashboard's telemetry API gives them (OTLP JSON), with the resource that sent each.</summary>
public static class DashboardTelemetry
{
    public static Task<IReadOnlyList<DashboardSpan>> TraceAsync(HttpClient api, string traceId, CancellationToken cancellationToken) =>
        SpansAsync(api, $"/api/telemetry/traces/{traceId}", cancellationToken);

    /// <summary>The spans of an answer of the telemetry API; none while it does not answer.</summary>
    public static async Task<IReadOnlyList<DashboardSpan>> SpansAsync(HttpClient api, string path, CancellationToken cancellationToken)
    {
        using var response = await api.GetAsync(path, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return [];
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var spans = new List<DashboardSpan>();
        foreach (var resource in document.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var attributes = Attributes(resource.GetProperty("resource"));
            var service = attributes.GetValueOrDefault("service.name") ?? "";
            var instance = attributes.GetValueOrDefault("service.instance.id");
            foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
            {
                foreach (var span in scope.GetProperty("spans").EnumerateArray())
                {
                    var parent = span.TryGetProperty("parentSpanId", out var p) && p.GetString() is { Length: > 0 } id ? id : null;
                    spans.Add(new DashboardSpan(service, instance, span.GetProperty("traceId").GetString()!, span.GetProperty("spanId").GetString()!,
                        parent, span.GetProperty("name").GetString()!, Attributes(span)));
                }
            }
        }

        return spans;
    }

    /// <summary>For a failure message: each span as service/instance: name.</summary>
    public static string Describe(IEnumerable<DashboardSpan> spans) => string.Join(", ", spans.Select(s => $"{s.Service}/{s.Instance}: {s.Name}"));

    private static Dictionary<string, string?> Attributes(JsonElement element) =>
        element.TryGetProperty("attributes", out var attributes)
            ? attributes.EnumerateArray().ToDictionary(
                a => a.GetProperty("key").GetString()!,
                a => (string?)a.GetProperty("value").EnumerateObject().FirstOrDefault().Value.ToString())
            : [];
}

public sealed record DashboardSpan(
    string Service, string? Instance, string TraceId, string SpanId, string? ParentSpanId, string Name, IReadOnlyDictionary<string, string?> Attributes);
