import { dashboard, eventually } from './environment.js';
import { flush } from './tracing.js';

/**
 * @typedef {{ service: string, instance: string | undefined, traceId: string, spanId: string, parentSpanId: string | undefined,
 *   name: string, kind: number, traceState: string | undefined, attributes: Record<string, unknown> }} DashboardSpan
 */

/**
 * The spans of a trace as the Aspire dashboard holds them (its telemetry API, OTLP JSON).
 * @param {string} traceId
 * @returns {Promise<DashboardSpan[]>}
 */
export async function traceSpans(traceId) {
  const response = await fetch(new URL(`/api/telemetry/traces/${traceId}`, dashboard.url), { headers: dashboard.headers });
  if (!response.ok) {
    return [];
  }

  const { data } = /** @type {{ data: { resourceSpans: any[] } }} */ (await response.json());
  return data.resourceSpans.flatMap((resource) => {
    const resourceAttributes = attributes(resource.resource);
    return resource.scopeSpans.flatMap((/** @type {any} */ scope) => scope.spans.map((/** @type {any} */ span) => ({
      service: String(resourceAttributes['service.name']),
      instance: /** @type {string | undefined} */ (resourceAttributes['service.instance.id']),
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId || undefined,
      name: span.name,
      kind: span.kind,
      traceState: span.traceState || undefined,
      attributes: attributes(span),
    })));
  });
}

/** @param {{ attributes?: { key: string, value: Record<string, unknown> }[] }} element */
function attributes(element) {
  return Object.fromEntries((element.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
}

/** @param {DashboardSpan[]} spans */
export const listSpans = (spans) => spans.map((s) => `${s.service}${s.instance ? `/${s.instance}` : ''}: ${s.name}`).join(', ');

/**
 * Waits until the dashboard holds the trace as `complete` wants it; fails listing what it holds.
 * @param {string} traceId
 * @param {(spans: DashboardSpan[]) => boolean} complete
 */
export async function dashboardTrace(traceId, complete) {
  /** @type {DashboardSpan[]} */
  let held = [];
  await flush();
  await eventually(async () => complete(held = await traceSpans(traceId)), () => `complete trace ${traceId}; it holds ${listSpans(held)}`, 45_000);
  return held;
}
