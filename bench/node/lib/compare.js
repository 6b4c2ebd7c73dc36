'use strict';
// The `compare` profile's headline: the four figures the issue names, for ours and the three anchors, each the
// median of the interleaved repeats with its spread (min–max), so one noisy run cannot decide a verdict.
const { passes } = require('./knee');

/** The systems `compare` runs, in the order each repeat runs them, and their names in the headline object. */
const COMPARED = { 'ours-on': 'ours', 'peer-on': 'peer', plain: 'signalr', 'plain-redis': 'signalrRedis' };
/** A lead under test (BENCH_LEAD), when the run has one: ours-on with the lead's settings. */
const LEAD = { 'ours-lead': 'oursLead' };
/** The `memory` profile's systems: ours, the peer, the bare hub, and Kestrel's WebSockets with no SignalR (the floor). */
const FLOOR = { websocket: 'websocket' };
const MEMORY_COMPARED = ['ours-on', 'peer-on', 'plain', 'websocket'];
const NAMES = { ours: 'ours', peer: 'Socket.IO peer', signalr: 'plain SignalR', signalrRedis: 'plain SignalR + Redis', oursLead: 'ours with the lead', websocket: 'Kestrel WebSockets, no SignalR' };

const median = (values) => {
  const sorted = values.filter((v) => v != null && !Number.isNaN(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** One figure per repeat for a system, from that repeat's rows. */
const FIGURES = {
  // Highest W2 step that passed (p99 ≤ 50 ms, none lost or refused); null when even the first step failed.
  knee: (rows) => {
    const passing = rows.filter((row) => row.workload === 'W2' && passes(row));
    return passing.length ? Math.max(...passing.map((row) => row.deliveriesPerSecond)) : null;
  },
  cpuPerDeliveryW4: (rows) => rows.find((row) => row.workload === 'W4')?.cpuMicrosPerDelivery ?? null,
  w1P99: (rows) => {
    const micros = rows.find((row) => row.workload === 'W1')?.latencyMicros?.[99];
    return micros == null ? null : micros / 1000;
  },
  idleKbPerConnection: (rows) => {
    const bytes = rows.find((row) => row.workload === 'W0')?.bytesPerConnection;
    return bytes == null ? null : bytes / 1024;
  },
  // .NET servers only: managed heap after a full collection, per idle connection.
  idleHeapKbPerConnection: (rows) => {
    const bytes = rows.find((row) => row.workload === 'W0')?.heapBytesPerConnection;
    return bytes == null ? null : bytes / 1024;
  },
};

/** { figure: { ours, peer, signalr, signalrRedis } } as medians, and the same shape with every repeat's value and spread. */
function compareHeadline(rows) {
  const repeats = Math.max(0, ...rows.map((row) => row.repeat ?? 0));
  const systems = Object.entries({ ...COMPARED, ...FLOOR, ...LEAD }).filter(([system]) => rows.some((row) => row.system === system));
  const headline = {};
  const spread = {};
  for (const [figure, measure] of Object.entries(FIGURES)) {
    headline[figure] = {};
    spread[figure] = {};
    for (const [system, key] of systems) {
      const values = [];
      for (let repeat = 1; repeat <= repeats; repeat++) {
        const ofRepeat = rows.filter((row) => row.system === system && row.repeat === repeat);
        values.push(ofRepeat.length ? measure(ofRepeat) : null); // by repeat, so ours and a lead pair up by index
      }
      headline[figure][key] = median(values);
      const measured = values.filter((v) => v != null);
      spread[figure][key] = { values, min: measured.length ? Math.min(...measured) : null, max: measured.length ? Math.max(...measured) : null };
    }
  }
  return { headline, spread, repeats };
}

const LOWER_IS_BETTER = { knee: false, cpuPerDeliveryW4: true, w1P99: true, idleKbPerConnection: true, idleHeapKbPerConnection: true };
const LABELS = {
  knee: 'Knee, deliveries/s (W2: p99 ≤ 50 ms, none lost)',
  cpuPerDeliveryW4: 'Server CPU per delivery, W4 10k/s (µs)',
  w1P99: 'W1 delivery p99 (ms)',
  idleKbPerConnection: 'Idle memory per connection, RSS (KB)',
  idleHeapKbPerConnection: 'Idle managed heap per connection after a full GC (KB)',
};

/** The Markdown table: median (min–max) per system, and ours ÷ each anchor. */
function compareTable({ headline, spread, repeats }) {
  const format = (figure, value) => (value == null ? '–' : figure === 'knee' ? Math.round(value).toLocaleString('en-US') : value.toFixed(value < 10 ? 2 : 1));
  const cell = (figure, key) => {
    const { min, max } = spread[figure][key];
    const value = headline[figure][key];
    return value == null ? '–' : `${format(figure, value)} (${format(figure, min)}–${format(figure, max)})`;
  };
  const better = (figure, value, than) => (LOWER_IS_BETTER[figure] ? value < than : value > than);
  // A repeat runs every system (and ours with a lead) next to one another: in how many repeats one led the other says
  // whether a median's verdict holds across processes or rests on one slow one (findings.md).
  const repeatsLed = (figure, key, than) => {
    const pairs = spread[figure][key].values.map((value, i) => [value, spread[figure][than].values[i]]).filter(([a, b]) => a != null && b != null);
    return { led: pairs.filter(([value, other]) => better(figure, value, other)).length, of: pairs.length };
  };
  const versus = (figure, key) => {
    const ours = headline[figure].ours;
    const other = headline[figure][key];
    if (ours == null || other == null || other === 0) return '–';
    const { led, of } = repeatsLed(figure, 'ours', key);
    return `${(ours / other).toFixed(2)}× ${better(figure, ours, other) ? '(ahead)' : '(behind)'}, ahead in ${led} of ${of} repeats`;
  };
  // Only the systems this run measured; ours against each of them, and the lead against ours.
  const keys = Object.keys(headline.knee);
  const anchors = keys.filter((key) => key !== 'ours' && key !== 'oursLead');
  const lead = keys.includes('oursLead');
  const leadVersus = (figure) => {
    const ours = headline[figure].ours;
    const withLead = headline[figure].oursLead;
    if (ours == null || withLead == null || ours === 0) return '–';
    const { led, of } = repeatsLed(figure, 'oursLead', 'ours');
    return `${(withLead / ours).toFixed(2)}× ${better(figure, withLead, ours) ? '(better)' : '(worse)'}, better in ${led} of ${of} pairs`;
  };
  const row = (cells) => `| ${cells.join(' | ')} |`;
  const header = row([`Figure (median of ${repeats}, min–max)`, ...keys.map((key) => NAMES[key]), ...anchors.map((key) => `ours ÷ ${NAMES[key]}`), ...(lead ? ['lead ÷ ours'] : [])]);
  const rule = row(['---', ...Array(keys.length + anchors.length + (lead ? 1 : 0)).fill('---:')]);
  // Only the figures this run measured (the memory profile measures idle connections alone).
  const measured = Object.keys(FIGURES).filter((figure) => keys.some((key) => headline[figure][key] != null));
  const lines = measured.map((figure) => row([LABELS[figure], ...keys.map((key) => cell(figure, key)), ...anchors.map((key) => versus(figure, key)), ...(lead ? [leadVersus(figure)] : [])]));
  return [header, rule, ...lines].join('\n');
}

module.exports = { COMPARED, MEMORY_COMPARED, compareHeadline, compareTable, median };
