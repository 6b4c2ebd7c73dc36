using System.Text.RegularExpressions;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Telemetry;

/// <summary>docs/telemetry.md, read as data: the span, metric and attribute tables.</summary>
public sealed partial class TelemetryCatalogue
{
    private TelemetryCatalogue(IReadOnlyList<SpanEntry> spans, IReadOnlyList<SpanEntry> javaScriptSpans, IReadOnlyList<MetricEntry> metrics, IReadOnlyList<string> attributes)
    {
        Spans = spans;
        JavaScriptSpans = javaScriptSpans;
        Metrics = metrics;
        Attributes = attributes;
    }

    public IReadOnlyList<SpanEntry> Spans { get; }

    /// <summary>The spans only the JavaScript client makes (clients/js checks them; no .NET code emits them).</summary>
    public IReadOnlyList<SpanEntry> JavaScriptSpans { get; }

    public IReadOnlyList<MetricEntry> Metrics { get; }

    public IReadOnlyList<string> Attributes { get; }

    /// <summary>The entry an emitted span belongs to: the most specific one whose pattern matches.</summary>
    public SpanEntry? SpanFor(string source, string name) =>
        Spans.Where(e => e.Source == source && e.Matches(name)).OrderBy(e => e.Name.Count(c => c == '{')).FirstOrDefault();

    public static TelemetryCatalogue Load()
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, "docs", "telemetry.md"));
        var spans = new List<SpanEntry>();
        var javaScriptSpans = new List<SpanEntry>();
        var metrics = new List<MetricEntry>();
        var attributes = new List<string>();
        string? section = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                section = line[3..].Trim();
                continue;
            }

            if (!line.StartsWith("| `", StringComparison.Ordinal))
            {
                continue;
            }

            var cells = line.Split('|').Select(c => c.Trim()).ToArray()[1..^1];
            var name = Names(cells[0]).Single();
            switch (section)
            {
                case "Spans":
                    spans.Add(new SpanEntry(name, cells[1], cells[2], Names(cells[3])));
                    break;
                case "JavaScript client spans":
                    javaScriptSpans.Add(new SpanEntry(name, cells[1], cells[2], Names(cells[3])));
                    break;
                case "Metrics":
                    metrics.Add(new MetricEntry(name, cells[1], cells[2], Names(cells[3]), cells[4]));
                    break;
                case "Attributes":
                    attributes.Add(name);
                    break;
            }
        }

        return new TelemetryCatalogue(spans, javaScriptSpans, metrics, attributes);
    }

    private static IReadOnlyList<string> Names(string cell) => [.. BacktickedName().Matches(cell).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex BacktickedName();
}

public sealed record SpanEntry(string Name, string Kind, string Source, IReadOnlyList<string> Attributes)
{
    /// <summary>Whether an emitted span name is this entry's: {template} stands for room/… or user/…, {hub} and {method} for SignalR's.</summary>
    public bool Matches(string spanName) => Regex.IsMatch(spanName, "^" + Regex.Escape(Name)
        .Replace(@"\{template}", @"(room|user)/\S+")
        .Replace(@"\{hub}", @"RealtimeDemo\.RealtimeGateway\.Chat\.ChatHub")
        .Replace(@"\{method}", @"\w+")
        .Replace(@"\{name}", @"\{name}") + "$");

    public int OtlpKind => Kind switch
    {
        "INTERNAL" => OtlpSpan.KindInternal,
        "SERVER" => OtlpSpan.KindServer,
        "CLIENT" => OtlpSpan.KindClient,
        "PRODUCER" => OtlpSpan.KindProducer,
        "CONSUMER" => OtlpSpan.KindConsumer,
        _ => throw new InvalidDataException($"Unknown span kind '{Kind}' in docs/telemetry.md."),
    };

    public bool IsOurs => Source.StartsWith("RealtimeDemo.", StringComparison.Ordinal);
}

public sealed record MetricEntry(string Name, string Type, string Unit, IReadOnlyList<string> Attributes, string Source);
