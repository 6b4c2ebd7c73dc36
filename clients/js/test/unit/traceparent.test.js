import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, TraceFlags, createTraceState, trace } from '@opentelemetry/api';
import { contextFromTraceParent, traceContextHeaders } from '../../src/traceparent.js';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const spanId = 'b7ad6b7169203331';

test('a sampled span becomes a traceparent with flags 01, and its trace state a tracestate', () => {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, traceState: createTraceState('rtd=test,other=1') });
  assert.deepEqual(traceContextHeaders(ctx), { traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'rtd=test,other=1' });
});

test('an unsampled span travels with flags 00, so the gateway drops its side too', () => {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.NONE });
  assert.deepEqual(traceContextHeaders(ctx), { traceparent: `00-${traceId}-${spanId}-00` });
});

test('no span, no headers', () => {
  assert.equal(traceContextHeaders(ROOT_CONTEXT), undefined);
});

test("a message's traceParent becomes a remote parent", () => {
  const parent = trace.getSpanContext(contextFromTraceParent(`00-${traceId}-${spanId}-01`) ?? ROOT_CONTEXT);
  assert.deepEqual(parent, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
});

test('a missing or malformed traceParent gives no parent', () => {
  for (const text of [undefined, null, '', 'nonsense', `01-${traceId}-${spanId}-01`, `00-${'0'.repeat(32)}-${spanId}-01`,
    `00-${traceId}-${'0'.repeat(16)}-01`, `00-${traceId.toUpperCase()}-${spanId}-01`]) {
    assert.equal(contextFromTraceParent(text), undefined, String(text));
  }
});
