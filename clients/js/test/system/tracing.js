import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { otlp } from './environment.js';

// What an application brings: the OpenTelemetry SDK, exporting to the Aspire dashboard over OTLP/HTTP (with the
// key the dashboard asks for), plus a copy in memory so that tests can check their own spans at once.
export const serviceName = 'js-client-tests';
const recorded = new InMemorySpanExporter();
const provider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': serviceName }),
  spanProcessors: [
    new BatchSpanProcessor({
      exporter: new OTLPTraceExporter({ url: `${otlp.endpoint.replace(/\/$/, '')}/v1/traces`, headers: otlp.headers }),
      scheduledDelayMillis: 500,
    }),
    new SimpleSpanProcessor({ exporter: recorded }),
  ],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);

export const tracer = trace.getTracer('js-client-tests');

/** The spans this process's clients made so far. */
export const spans = () => recorded.getFinishedSpans();

/** Sends what is queued to the dashboard. */
export const flush = () => provider.forceFlush();

export const shutdown = () => provider.shutdown();
