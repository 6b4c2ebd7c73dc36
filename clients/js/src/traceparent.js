import { ROOT_CONTEXT, TraceFlags, isSpanContextValid, trace } from '@opentelemetry/api';

// W3C Trace Context, version 00: the format the gateway reads from invocation headers and writes into each
// message it delivers (the same text HTTP carries). Written here rather than through the application's
// propagator: the gateway understands exactly this, whatever propagator the application registered.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The traceparent (and tracestate, when there is one) of the span in `ctx`, or undefined when it has none.
 * @param {import('@opentelemetry/api').Context} ctx
 * @returns {{ traceparent: string, tracestate?: string } | undefined}
 */
export function traceContextHeaders(ctx) {
  const span = trace.getSpanContext(ctx);
  if (!span || !isSpanContextValid(span)) {
    return undefined;
  }

  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  /** @type {{ traceparent: string, tracestate?: string }} */
  const headers = { traceparent: `00-${span.traceId}-${span.spanId}-${flags}` };
  const state = span.traceState?.serialize();
  if (state) {
    headers.tracestate = state;
  }

  return headers;
}

/**
 * The context a message's traceParent names (a remote parent), or undefined when it carries none or a malformed one.
 * @param {string | null | undefined} traceParent
 * @returns {import('@opentelemetry/api').Context | undefined}
 */
export function contextFromTraceParent(traceParent) {
  const match = typeof traceParent === 'string' ? TRACEPARENT.exec(traceParent) : null;
  if (!match) {
    return undefined;
  }

  const span = { traceId: match[1], spanId: match[2], traceFlags: Number.parseInt(match[3], 16), isRemote: true };
  return isSpanContextValid(span) ? trace.setSpanContext(ROOT_CONTEXT, span) : undefined;
}
