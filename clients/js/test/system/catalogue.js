import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { INSTRUMENTATION_NAME } from '../../src/index.js';
import { spans } from './tracing.js';

// docs/telemetry.md and this client hold each other true, as Tests/Telemetry/TelemetryCatalogueTests.cs does for
// the .NET side: the spans the suite's clients made are listed (the .NET client's, which this client shares, and
// "JavaScript client spans"), with their kind and attributes, and every span listed for it was made.
const KINDS = { INTERNAL: SpanKind.INTERNAL, CLIENT: SpanKind.CLIENT, PRODUCER: SpanKind.PRODUCER, CONSUMER: SpanKind.CONSUMER };

function catalogue() {
  const text = readFileSync(new URL('../../../../docs/telemetry.md', import.meta.url), 'utf8');
  /** @type {{ name: string, kind: number, attributes: string[] }[]} */
  const entries = [];
  let section = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      section = line.slice(3).trim();
    } else if ((section === 'Spans' || section === 'JavaScript client spans') && line.startsWith('| `')) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      const names = (/** @type {string} */ cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      if (cells[2] === INSTRUMENTATION_NAME) {
        entries.push({ name: names(cells[0])[0], kind: KINDS[/** @type {keyof KINDS} */ (cells[1])], attributes: names(cells[3]) });
      }
    }
  }

  return entries;
}

/**
 * @param {string} pattern a catalogued name: {method} stands for a hub method, {name} is literal
 * @param {string} name
 */
const matches = (pattern, name) => new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\{method\\}', '\\w+')}$`).test(name);

describe('the telemetry catalogue', () => {
  test('every span this client made is catalogued with its kind and attributes, and every span catalogued for it was made', () => {
    const entries = catalogue();
    const made = spans().filter((s) => s.instrumentationScope.name === INSTRUMENTATION_NAME);
    for (const span of made) {
      const entry = entries.find((e) => matches(e.name, span.name));
      assert.ok(entry, `span '${span.name}' is not in docs/telemetry.md`);
      assert.equal(span.kind, entry.kind, `span '${span.name}' has the kind the catalogue gives`);
      assert.deepEqual(Object.keys(span.attributes).filter((a) => !entry.attributes.includes(a)), [], `span '${span.name}' carries only catalogued attributes`);
    }

    for (const entry of entries) {
      const matching = made.filter((s) => matches(entry.name, s.name));
      assert.ok(matching.length > 0, `the catalogue lists '${entry.name}'; this client never made it`);
      const carried = new Set(matching.flatMap((s) => Object.keys(s.attributes)));
      assert.deepEqual(entry.attributes.filter((a) => !carried.has(a)), [], `span '${entry.name}' carried every catalogued attribute`);
    }
  });
});
