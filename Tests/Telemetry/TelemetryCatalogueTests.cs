using System.Text.RegularExpressions;
using RealtimeDemo.Client;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Telemetry;

/// <summary>docs/telemetry.md and the code hold each other true: what is emitted is listed, what is listed is emitted.</summary>
[Collection(TelemetryScenario.Collection)]
public sealed class TelemetryCatalogueTests(TelemetryScenario scenario)
{
    private static readonly TelemetryCatalogue Catalogue = TelemetryCatalogue.Load();

    private IEnumerable<(string Source, string Name, int Kind, IReadOnlyCollection<string> Attributes)> OurSpans =>
        scenario.Otlp.Spans.Where(s => s.Scope.StartsWith("RealtimeDemo.", StringComparison.Ordinal))
            .Select(s => (s.Scope, s.Name, s.Kind, (IReadOnlyCollection<string>)s.Attributes.Keys))
            .Concat(scenario.ClientSpans.Select(a => (a.Source.Name, a.DisplayName, (int)a.Kind + 1, (IReadOnlyCollection<string>)[.. a.TagObjects.Select(t => t.Key)])));

    private IEnumerable<(string Source, string Name, string? Unit, IReadOnlyCollection<string> Attributes)> OurMetrics =>
        scenario.Otlp.Metrics.Where(m => m.Scope.StartsWith("RealtimeDemo.", StringComparison.Ordinal))
            .Select(m => (m.Scope, m.Name, (string?)m.Unit, (IReadOnlyCollection<string>)m.Attributes.Keys))
            .Concat(scenario.ClientMetrics.Select(m => (ChatClientTelemetry.Name, m.Name, (string?)null, (IReadOnlyCollection<string>)m.Tags.Keys)));

    [Fact]
    public void Every_span_our_services_emit_is_catalogued_with_its_kind_and_attributes()
    {
        foreach (var (source, name, kind, attributes) in OurSpans)
        {
            var entry = Catalogue.SpanFor(source, name);
            Assert.True(entry is not null, $"Span '{name}' from {source} is not in docs/telemetry.md.");
            Assert.True(entry.OtlpKind == kind, $"Span '{name}' is kind {kind}, the catalogue says {entry.Kind}.");
            var unlisted = attributes.Except(entry.Attributes).ToList();
            Assert.True(unlisted.Count == 0, $"Span '{name}' carries attributes the catalogue does not list: {string.Join(", ", unlisted)}.");
        }
    }

    [Fact]
    public void Every_catalogued_span_is_emitted_with_every_attribute_it_lists()
    {
        var emitted = scenario.Otlp.Spans.Select(s => (Source: s.Scope, s.Name, Attributes: (IEnumerable<string>)s.Attributes.Keys))
            .Concat(scenario.ClientSpans.Select(a => (Source: a.Source.Name, Name: a.DisplayName, Attributes: a.TagObjects.Select(t => t.Key))))
            .ToList();
        foreach (var entry in Catalogue.Spans)
        {
            var matching = emitted.Where(s => s.Source == entry.Source && Catalogue.SpanFor(s.Source, s.Name) == entry).ToList();
            Assert.True(matching.Count > 0, $"The catalogue lists span '{entry.Name}' ({entry.Source}); nothing emitted it.");
            var missing = entry.Attributes.Except(matching.SelectMany(s => s.Attributes)).ToList();
            Assert.True(missing.Count == 0, $"Span '{entry.Name}' never carried: {string.Join(", ", missing)}.");
        }
    }

    [Fact]
    public void Every_metric_our_services_emit_is_catalogued_and_every_catalogued_metric_is_emitted()
    {
        var catalogued = Catalogue.Metrics.ToDictionary(m => m.Name);
        foreach (var (source, name, unit, attributes) in OurMetrics)
        {
            Assert.True(catalogued.TryGetValue(name, out var entry), $"Metric '{name}' from {source} is not in docs/telemetry.md.");
            Assert.Equal(entry.Source, source);
            if (unit is not null)
            {
                Assert.True(entry.Unit == unit, $"Metric '{name}' has unit '{unit}', the catalogue says '{entry.Unit}'.");
            }

            var unlisted = attributes.Except(entry.Attributes).ToList();
            Assert.True(unlisted.Count == 0, $"Metric '{name}' carries attributes the catalogue does not list: {string.Join(", ", unlisted)}.");
        }

        var emitted = OurMetrics.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.SelectMany(m => m.Attributes).ToHashSet());
        foreach (var entry in Catalogue.Metrics)
        {
            Assert.True(emitted.TryGetValue(entry.Name, out var attributes), $"The catalogue lists metric '{entry.Name}'; nothing emitted it.");
            var missing = entry.Attributes.Except(attributes).ToList();
            Assert.True(missing.Count == 0, $"Metric '{entry.Name}' never carried: {string.Join(", ", missing)}.");
        }
    }

}

/// <summary>The catalogue against itself and against the code, without running anything.</summary>
public sealed partial class TelemetryCatalogueDeclarationTests
{
    private static readonly TelemetryCatalogue Catalogue = TelemetryCatalogue.Load();

    [Fact]
    public void The_attribute_table_lists_exactly_the_attributes_the_spans_and_metrics_use()
    {
        var used = Catalogue.Spans.Concat(Catalogue.JavaScriptSpans).SelectMany(s => s.Attributes)
            .Concat(Catalogue.Metrics.SelectMany(m => m.Attributes)).ToHashSet();

        Assert.Empty(used.Except(Catalogue.Attributes));
        Assert.Empty(Catalogue.Attributes.Except(used));
    }

    [Fact]
    public void The_code_declares_exactly_the_catalogued_metrics()
    {
        var declared = Directory.EnumerateFiles(Repository.Root, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}Tests{Path.DirectorySeparatorChar}") && !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .SelectMany(path => InstrumentDeclaration().Matches(File.ReadAllText(path)).Select(m => m.Groups[1].Value))
            .ToHashSet();

        Assert.Equal(Catalogue.Metrics.Select(m => m.Name).Order(), declared.Order());
    }

    [GeneratedRegex(@"Create(?:Counter|Histogram|UpDownCounter|ObservableGauge|ObservableCounter|ObservableUpDownCounter)(?:<\w+>)?\(\s*""([a-z0-9_.]+)""")]
    private static partial Regex InstrumentDeclaration();
}
