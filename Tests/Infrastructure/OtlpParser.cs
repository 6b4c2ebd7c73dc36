namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>Reads OTLP export requests (opentelemetry-proto v1 field numbers) into flat records.</summary>
public static class OtlpParser
{
    public static IEnumerable<OtlpSpan> Spans(byte[] payload)
    {
        var spans = new List<OtlpSpan>();
        foreach (var (resource, scopes) in ResourceBlocks(payload))
        {
            foreach (var (scope, items) in scopes)
            {
                foreach (var span in items)
                {
                    spans.Add(Span(resource, scope, span));
                }
            }
        }

        return spans;
    }

    public static IEnumerable<OtlpMetricPoint> MetricPoints(byte[] payload)
    {
        var points = new List<OtlpMetricPoint>();
        foreach (var (resource, scopes) in ResourceBlocks(payload))
        {
            foreach (var (scope, metrics) in scopes)
            {
                foreach (var metric in metrics)
                {
                    points.AddRange(Metric(resource, scope, metric));
                }
            }
        }

        return points;
    }

    public static IEnumerable<OtlpLogRecord> LogRecords(byte[] payload)
    {
        var records = new List<OtlpLogRecord>();
        foreach (var (resource, scopes) in ResourceBlocks(payload))
        {
            foreach (var (scope, logs) in scopes)
            {
                foreach (var log in logs)
                {
                    string? body = null;
                    var attributes = new Dictionary<string, object?>();
                    var reader = new ProtobufReader(log);
                    while (reader.Next())
                    {
                        switch (reader.Field)
                        {
                            case 5: body = AnyValue(reader.Message())?.ToString(); break;
                            case 6: KeyValue(reader.Message(), attributes); break;
                            default: reader.Skip(); break;
                        }
                    }

                    records.Add(new OtlpLogRecord(resource.Service, scope, body, attributes));
                }
            }
        }

        return records;
    }

    private sealed record Resource(string Service, string? Instance);

    // Every signal: request { 1: resource_x { 1: resource, 2: scope_x { 1: scope, 2: items } } }.
    private static IEnumerable<(Resource Resource, List<(string Scope, List<ReadOnlyMemory<byte>> Items)> Scopes)> ResourceBlocks(byte[] payload)
    {
        var request = new ProtobufReader(payload);
        while (request.Next())
        {
            if (request.Field != 1)
            {
                request.Skip();
                continue;
            }

            var block = request.Message();
            var resource = new Resource("?", null);
            var scopes = new List<(string, List<ReadOnlyMemory<byte>>)>();
            while (block.Next())
            {
                switch (block.Field)
                {
                    case 1:
                        var attributes = Attributes(block.Message(), field: 1);
                        resource = new Resource(attributes.GetValueOrDefault("service.name")?.ToString() ?? "?", attributes.GetValueOrDefault("service.instance.id")?.ToString());
                        break;
                    case 2:
                        var scopeBlock = block.Message();
                        var scopeName = "";
                        var items = new List<ReadOnlyMemory<byte>>();
                        while (scopeBlock.Next())
                        {
                            switch (scopeBlock.Field)
                            {
                                case 1: scopeName = ScopeName(scopeBlock.Message()); break;
                                case 2: items.Add(scopeBlock.Bytes()); break;
                                default: scopeBlock.Skip(); break;
                            }
                        }

                        scopes.Add((scopeName, items));
                        break;
                    default:
                        block.Skip();
                        break;
                }
            }

            yield return (resource, scopes);
        }
    }

    private static OtlpSpan Span(Resource resource, string scope, ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtobufReader(bytes);
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        int kind = 0, status = 0;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, object?>();
        var links = new List<(string, string)>();
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 1: traceId = Convert.ToHexStringLower(reader.Bytes().Span); break;
                case 2: spanId = Convert.ToHexStringLower(reader.Bytes().Span); break;
                case 4: parent = Convert.ToHexStringLower(reader.Bytes().Span) is { Length: > 0 } p ? p : null; break;
                case 5: name = reader.String(); break;
                case 6: kind = (int)reader.Varint(); break;
                case 7: start = reader.Fixed64(); break;
                case 8: end = reader.Fixed64(); break;
                case 9: KeyValue(reader.Message(), attributes); break;
                case 13: links.Add(Link(reader.Message())); break;
                case 15: status = StatusCode(reader.Message()); break;
                default: reader.Skip(); break;
            }
        }

        return new OtlpSpan(resource.Service, resource.Instance, scope, name, kind, traceId, spanId, parent, attributes, links, status,
            TimeSpan.FromTicks((long)(end - start) / 100));
    }

    private static IEnumerable<OtlpMetricPoint> Metric(Resource resource, string scope, ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtobufReader(bytes);
        string name = "", unit = "";
        var points = new List<(ReadOnlyMemory<byte> Point, bool Histogram)>();
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 1: name = reader.String(); break;
                case 3: unit = reader.String(); break;
                case 5 or 7 or 9:
                    var histogram = reader.Field == 9;
                    var data = reader.Message();
                    while (data.Next())
                    {
                        if (data.Field == 1) points.Add((data.Bytes(), histogram));
                        else data.Skip();
                    }

                    break;
                default: reader.Skip(); break;
            }
        }

        foreach (var (point, histogram) in points)
        {
            var p = new ProtobufReader(point);
            var attributes = new Dictionary<string, object?>();
            double value = 0;
            ulong count = 0;
            while (p.Next())
            {
                switch (p.Field, histogram)
                {
                    case (7, false) or (9, true): KeyValue(p.Message(), attributes); break;
                    case (4, false): value = p.Double(); break;
                    case (6, false): value = (long)p.Fixed64(); break;
                    case (4, true): count = p.Fixed64(); break;
                    case (5, true): value = p.Double(); break;
                    default: p.Skip(); break;
                }
            }

            yield return new OtlpMetricPoint(resource.Service, resource.Instance, scope, name, unit, attributes, value, count);
        }
    }

    private static Dictionary<string, object?> Attributes(ProtobufReader reader, int field)
    {
        var attributes = new Dictionary<string, object?>();
        while (reader.Next())
        {
            if (reader.Field == field) KeyValue(reader.Message(), attributes);
            else reader.Skip();
        }

        return attributes;
    }

    private static void KeyValue(ProtobufReader reader, Dictionary<string, object?> into)
    {
        string key = "";
        object? value = null;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 1: key = reader.String(); break;
                case 2: value = AnyValue(reader.Message()); break;
                default: reader.Skip(); break;
            }
        }

        into[key] = value;
    }

    private static object? AnyValue(ProtobufReader reader)
    {
        object? value = null;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 1: value = reader.String(); break;
                case 2: value = reader.Varint() != 0; break;
                case 3: value = (long)reader.Varint(); break;
                case 4: value = reader.Double(); break;
                default: reader.Skip(); break;
            }
        }

        return value;
    }

    private static string ScopeName(ProtobufReader reader)
    {
        while (reader.Next())
        {
            if (reader.Field == 1) return reader.String();
            reader.Skip();
        }

        return "";
    }

    private static (string, string) Link(ProtobufReader reader)
    {
        string traceId = "", spanId = "";
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case 1: traceId = Convert.ToHexStringLower(reader.Bytes().Span); break;
                case 2: spanId = Convert.ToHexStringLower(reader.Bytes().Span); break;
                default: reader.Skip(); break;
            }
        }

        return (traceId, spanId);
    }

    private static int StatusCode(ProtobufReader reader)
    {
        var code = 0;
        while (reader.Next())
        {
            if (reader.Field == 3) code = (int)reader.Varint();
            else reader.Skip();
        }

        return code;
    }
}
