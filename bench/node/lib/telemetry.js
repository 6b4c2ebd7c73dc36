'use strict';
// The article's OpenTelemetry set-up (NodeSDK, OTLP/HTTP traces and metrics), switched by PEER_TELEMETRY=on.
// Loaded before socket.io, as the article's `require('./tracing')` is. Auto-instrumentations are left out:
// they only touch the HTTP upgrade, not the chat events this benchmark measures.
const enabled = process.env.PEER_TELEMETRY === 'on';

if (enabled) {
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
  const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-http');
  const { PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
  const { resourceFromAttributes } = require('@opentelemetry/resources');
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://127.0.0.1:4318';
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': 'socketio-app', 'service.version': '1.0.0' }),
    traceExporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
    metricReader: new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
      exportIntervalMillis: 5000,
    }),
  });
  sdk.start();
  process.on('SIGTERM', () => sdk.shutdown().finally(() => process.exit(0)));
} else {
  process.on('SIGTERM', () => process.exit(0));
}

module.exports = { enabled };
