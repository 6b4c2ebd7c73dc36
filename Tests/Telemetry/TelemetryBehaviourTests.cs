using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Telemetry;

/// <summary>What the telemetry says about the scenario: one trace per message, every reason, nothing secret.</summary>
[Collection(TelemetryScenario.Collection)]
public sealed class TelemetryBehaviourTests(TelemetryScenario scenario)
{
    private IReadOnlyCollection<OtlpSpan> Spans => scenario.Otlp.Spans;

    [Fact]
    public void One_message_is_one_trace_from_the_sender_through_every_replica_the_worker_and_the_receiving_client()
    {
        var send = Assert.Single(Spans, s => s.Name == "send room/lobby" && s.Attribute("messaging.message.id") == scenario.FirstMessage.MessageId
            && s.Attribute("chat.message.duplicate") == "False");
        var trace = Spans.Where(s => s.TraceId == send.TraceId).ToList();

        var server = Assert.Single(trace, s => s.SpanId == send.ParentSpanId);
        Assert.Equal(("RealtimeDemo.RealtimeGateway.Chat.ChatHub/SendMessage", OtlpSpan.KindServer, "gateway-a"), (server.Name, server.Kind, server.Instance));
        var deliveries = trace.Where(s => s.Service == "realtime-gateway" && s.Name == "process room/lobby").ToList();
        Assert.All(deliveries, d => Assert.Equal((send.SpanId, OtlpSpan.KindConsumer), (d.ParentSpanId, d.Kind)));
        Assert.Equal(["gateway-a", "gateway-b"], deliveries.Select(d => d.Instance).Order());
        Assert.Equal("2", deliveries.Single(d => d.Instance == "gateway-b").Attribute("chat.recipients.local")); // bob and carol
        var worker = Assert.Single(trace, s => s.Scope == "RealtimeDemo.ChatWorker");
        Assert.Equal((send.SpanId, "processed"), (worker.ParentSpanId, worker.Attribute("chat.outcome")));
        Assert.Contains(trace, s => s.Kind == OtlpSpan.KindClient && s.ParentSpanId == send.SpanId && s.Attributes.ContainsKey("db.system")); // the Redis hop

        var onB = deliveries.Single(d => d.Instance == "gateway-b");
        var received = scenario.ClientSpans.Where(a => a.GetTagItem("messaging.message.id") as string == scenario.FirstMessage.MessageId).ToList();
        Assert.Contains(received, a => a.TraceId.ToHexString() == send.TraceId && a.ParentSpanId.ToHexString() == onB.SpanId);
    }

    [Fact]
    public void Every_span_of_a_connection_links_to_its_connect_span_and_none_lasts_as_long_as_the_connection()
    {
        var connects = Spans.Where(s => s.Name.EndsWith("/OnConnectedAsync", StringComparison.Ordinal)).ToDictionary(s => s.SpanId);
        var invocations = Spans.Where(s => s.Kind == OtlpSpan.KindServer && s.Name.StartsWith("RealtimeDemo.RealtimeGateway.Chat.ChatHub/", StringComparison.Ordinal)).ToList();
        var disconnects = Spans.Where(s => s.Name.EndsWith("/OnDisconnectedAsync", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(invocations);
        Assert.All(invocations.Concat(disconnects), s => Assert.Contains(s.Links, l => connects.ContainsKey(l.SpanId)));
        Assert.All(connects.Values.Concat(disconnects), s => Assert.Null(s.ParentSpanId)); // each its own short trace
        var longest = Spans.MaxBy(s => s.Duration)!;
        Assert.True(longest.Duration < TimeSpan.FromSeconds(10), $"'{longest.Name}' lasted {longest.Duration.TotalSeconds:F0} s; connections here live ~40 s and none may be one span.");
    }

    [Fact]
    public void A_connect_span_names_the_client_that_connected()
    {
        // What an operator asks of a connect ("with what client?"); ours open their WebSocket themselves and say so.
        var agents = Spans.Where(s => s.Name.EndsWith("/OnConnectedAsync", StringComparison.Ordinal)).Select(s => s.Attribute("user_agent.original")).ToList();
        Assert.Contains(agents, agent => agent is not null && System.Text.RegularExpressions.Regex.IsMatch(agent, @"^RealtimeDemo\.Client/\d+\.\d+\.\d+ \([a-z0-9-]+; \.NET \d+\.\d+\.\d+\)$"));
    }

    [Fact]
    public void Connections_end_for_every_reason_in_the_taxonomy_and_refusals_are_counted_by_reason()
    {
        var closed = ValuesOf("chat.connections.closed", "chat.disconnect.reason");
        var rejected = ValuesOf("chat.connections.rejected", "chat.rejection.reason");

        // transport_error needs an exception SignalR surfaces from the socket; see the classifier's unit test.
        ContainsAll(["client_closed", "timeout", "server_shutdown", "token_expired", "limit", "protocol_error"], closed);
        ContainsAll(["token_missing", "token_invalid", "token_expired", "origin_not_allowed", "user_full"], rejected);
        Assert.Contains(Spans, s => s.Name.EndsWith("/OnDisconnectedAsync", StringComparison.Ordinal) && s.Attribute("chat.disconnect.reason") == "timeout");
        // A text frame that is not UTF-8, which the runtime's WebSocket refuses before SignalR reads it, is the client's fault too.
        Assert.Contains(Spans, s => s.Name.EndsWith("/OnDisconnectedAsync", StringComparison.Ordinal)
            && s.Attribute("enduser.id")?.StartsWith("mangler", StringComparison.Ordinal) == true && s.Attribute("chat.disconnect.reason") == "protocol_error");
        Assert.Contains(Spans, s => s.Name.EndsWith("/OnConnectedAsync", StringComparison.Ordinal) && s.Attribute("chat.error.code") == "user_full");
    }

    [Fact]
    public void Hub_calls_are_counted_by_method_and_outcome_with_the_reason_for_refusals()
    {
        var calls = scenario.Otlp.Metrics.Where(m => m.Name == "chat.hub.invocation.duration").ToList();

        Assert.Contains(calls, m => m.Attribute("rpc.method") == "SendMessage" && m.Attribute("chat.outcome") == "ok" && m.Count > 0);
        Assert.Contains(calls, m => m.Attribute("rpc.method") == "SendMessage" && m.Attribute("chat.outcome") == "refused" && m.Attribute("error.type") == "not_member");
        Assert.Contains(calls, m => m.Attribute("rpc.method") == "JoinRoom" && m.Attribute("error.type") == "invalid_argument");
    }

    [Fact]
    public void A_Redis_drop_is_seen_as_backplane_reconnects_outages_a_replay_a_failed_publish_and_client_gap_fills()
    {
        Assert.True(Sum("chat.backplane.reconnects") >= 1);
        Assert.Contains(scenario.Otlp.Metrics, m => m.Name == "chat.backplane.outage.duration" && m.Count > 0 && m.Value > 0);
        Assert.Contains(Spans, s => s.Name == "replay missed deliveries");
        Assert.True(Sum("chat.backplane.publish.failures") >= 1);
        Assert.Contains(Spans, s => s.Name == "send room/lobby" && s.Attribute("error.type") == "publish_failed");
        var gapReasons = scenario.ClientMetrics.Where(m => m.Name == "chat.client.gap_fills" && m.Value > 0).Select(m => m.Tags["chat.gap.reason"] as string).ToHashSet();
        ContainsAll(["reconnect", "missed_delivery"], gapReasons);
        Assert.Contains(scenario.ClientSpans, a => a.GetTagItem("chat.gap_fill") is true);
    }

    [Fact]
    public void Fault_counters_show_zero_before_their_first_fault_rather_than_nothing()
    {
        // A counter never added to is not exported: the dashboard showed no backplane reconnects or data losses at
        // all on a healthy system, which reads as telemetry missing, not as none happened.
        Assert.Contains(scenario.Otlp.Metrics, m => m.Name == "chat.backplane.reconnects" && m.Service == "realtime-gateway" && m.Value == 0);
        Assert.Contains(scenario.Otlp.Metrics, m => m.Name == "chat.storage.data_losses" && m.Service == "realtime-gateway" && m.Value == 0);
        Assert.Contains(scenario.Otlp.Metrics, m => m.Name == "chat.storage.data_losses" && m.Service == "chat-worker" && m.Value == 0);
        // Failures are listed at 0 per operation and per room template (the room/{name} series: this scenario's
        // failed publishes were in the lobby).
        Assert.Contains(scenario.Otlp.Metrics, m => m.Name == "chat.background.failures" && m.Attribute("chat.operation") == "unsubscribe" && m.Value == 0);
        Assert.Contains(scenario.Otlp.Metrics, m => m.Name == "chat.backplane.publish.failures" && m.Attribute("messaging.destination.template") == "room/{name}" && m.Value == 0);
        // The .NET client's too (the frontend's process lists them): every gap reason, and failures with no error type yet.
        var client = scenario.ClientMetrics;
        ContainsAll(["reconnect", "missed_delivery", "storage_reset"],
            [.. client.Where(m => m.Name == "chat.client.gap_fills").Select(m => m.Tags["chat.gap.reason"] as string)]);
        foreach (var name in new[] { "chat.client.messages_missed", "chat.client.rejoin.failures", "chat.client.resume.failures" })
        {
            Assert.Contains(client, m => m.Name == name && m.Tags.Count == 0);
        }
    }

    [Fact]
    public void The_worker_reports_processed_duplicate_failed_and_dead_lettered_entries_with_its_lag()
    {
        var outcomes = ValuesOf("chat.worker.messages", "chat.outcome");

        ContainsAll(["processed", "failed", "dead_lettered"], outcomes);
        Assert.Contains(Spans, s => s.Service == "chat-worker" && s.Attribute("chat.message.moderated") == "True");
        Assert.Contains(Spans, s => s.Service == "chat-worker" && s.Attribute("error.type") == "MalformedEntryException");
        Assert.Contains(scenario.Otlp.Metrics, m => m.Name == "chat.worker.lag");
    }

    [Fact]
    public void No_token_or_message_text_reaches_any_exported_span_log_or_metric()
    {
        Assert.NotEmpty(scenario.Otlp.Logs);
        Assert.Contains(Spans, s => s.Kind == OtlpSpan.KindClient && s.Attributes.ContainsKey("db.system")); // Redis commands were exported too

        Assert.False(scenario.Otlp.AnyPayloadContains(TelemetryScenario.Marker), "The marker sent as a message text and as a token appears in exported telemetry.");
        Assert.DoesNotContain(scenario.ClientSpans, a => a.TagObjects.Any(t => t.Value?.ToString()?.Contains(TelemetryScenario.Marker) == true));
        Assert.False(scenario.Otlp.AnyPayloadContains("hello everyone"), "A message text appears in exported telemetry.");
    }

    [Fact]
    public void Metric_attributes_carry_room_templates_never_raw_room_or_user_names()
    {
        var values = scenario.Otlp.Metrics.Where(m => m.Scope.StartsWith("RealtimeDemo.", StringComparison.Ordinal))
            .SelectMany(m => m.Attributes.Values).Select(v => v?.ToString()).ToHashSet();

        Assert.Contains("room/lobby", values);
        Assert.Contains("room/{name}", values);
        Assert.DoesNotContain("team-x", values);
        Assert.DoesNotContain(values, v => v?.StartsWith("alice-", StringComparison.Ordinal) == true || v?.StartsWith("bob-", StringComparison.Ordinal) == true);
    }

    private static void ContainsAll(string[] expected, IEnumerable<string?> actual)
    {
        var missing = expected.Except(actual).ToList();
        Assert.True(missing.Count == 0, $"Never seen: {string.Join(", ", missing)}.");
    }

    private HashSet<string?> ValuesOf(string metric, string attribute) =>
        scenario.Otlp.Metrics.Where(m => m.Name == metric).Select(m => m.Attribute(attribute)).ToHashSet();

    // Cumulative counters: the latest point per series is the total; sum those across series and processes.
    private double Sum(string metric) =>
        scenario.Otlp.Metrics.Where(m => m.Name == metric)
            .GroupBy(m => (m.Instance, string.Join(",", m.Attributes.OrderBy(a => a.Key).Select(a => $"{a.Key}={a.Value}"))))
            .Sum(g => g.Last().Value);
}
