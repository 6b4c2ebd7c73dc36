import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

// Spans recorded in memory, and a context manager so that context.active() follows the tests' awaits.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

export function recordSpans() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return { tracerProvider, spans: () => exporter.getFinishedSpans() };
}
