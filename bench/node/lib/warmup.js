'use strict';
// The `warmup` profile's figures: how fast a freshly started gateway reaches its steady cost under W1's load.
// A replica started by a scale-out or a restart takes its share of reconnecting clients at once, so the minute
// its JIT spends compiling is paid by real users; this reads it from the WU workload's 10 s windows.
const { median } = require('./compare');

const NAMES = { 'ours-on': 'ours', 'ours-lead': 'ours with the lead' };
// A window is warm when it costs at most this much more than the run's steady state and meets the knee's p99.
const WARM_WITHIN = 1.2;
const WARM_P99_MICROS = 50_000;

/**
 * One repeat's figures: its steady CPU (median of its last three windows), its first window's cost and tail, and
 * when it got within WARM_WITHIN of `reference` (the lowest steady cost in the run: a run that never warms would
 * otherwise look warm against its own cold figure); null when it never did.
 */
function ofRun(windows, reference) {
  const cpu = windows.map((w) => w.cpuMicrosPerDelivery);
  const warm = windows.find((w) => w.cpuMicrosPerDelivery != null && w.cpuMicrosPerDelivery <= WARM_WITHIN * reference && w.latencyMicros[99] <= WARM_P99_MICROS);
  return {
    steadyCpu: steadyOf(windows),
    warmAtSeconds: warm?.endsAtSeconds ?? null,
    firstWindowCpu: cpu[0],
    firstWindowP99Ms: windows[0] ? windows[0].latencyMicros[99] / 1000 : null,
    worstP99Ms: Math.max(...windows.map((w) => w.latencyMicros[99])) / 1000,
  };
}

const steadyOf = (windows) => median(windows.slice(-3).map((w) => w.cpuMicrosPerDelivery));

// warmAtSeconds is null for a repeat that never warmed: it ranks last (Infinity, shown as "never").
const spreadOf = (values, nullIsNever = false) => {
  const ranked = nullIsNever ? values.map((v) => v ?? Infinity) : values.filter((v) => v != null);
  return { median: median(ranked), min: ranked.length ? Math.min(...ranked) : null, max: ranked.length ? Math.max(...ranked) : null, values };
};

/** { warmup: { system: { figures: { name: spread }, windows: [{ endsAt, cpu, p99Ms, deliveriesPerSecond } as spreads] } } } */
function warmupHeadline(rows) {
  const warmup = {};
  const runsOf = (system) => rows.filter((row) => row.system === system && row.workload === 'WU' && row.windows?.length);
  const steadies = Object.keys(NAMES).map((system) => median(runsOf(system).map((row) => steadyOf(row.windows)))).filter((v) => v != null);
  const reference = Math.min(...steadies);
  for (const system of Object.keys(NAMES)) {
    const runs = runsOf(system);
    if (!runs.length) continue;
    const perRun = runs.map((row) => ofRun(row.windows, reference));
    const figures = Object.fromEntries(Object.keys(perRun[0]).map((name) => [name, spreadOf(perRun.map((run) => run[name]), name === 'warmAtSeconds')]));
    const count = Math.min(...runs.map((row) => row.windows.length));
    const windows = Array.from({ length: count }, (_, k) => ({
      endsAt: spreadOf(runs.map((row) => row.windows[k].endsAtSeconds)),
      cpu: spreadOf(runs.map((row) => row.windows[k].cpuMicrosPerDelivery)),
      p99Ms: spreadOf(runs.map((row) => row.windows[k].latencyMicros[99] / 1000)),
      deliveriesPerSecond: spreadOf(runs.map((row) => row.windows[k].deliveriesPerSecond)),
    }));
    warmup[system] = { figures, windows };
  }
  const wu = rows.find((row) => row.workload === 'WU');
  return { warmup, warmReference: reference, windowSeconds: wu?.windowSeconds ?? 10, repeats: Math.max(0, ...rows.map((row) => row.repeat ?? 0)) };
}

const format = (value) => (value == null ? '–' : value === Infinity ? 'never' : value.toFixed(value < 10 ? 2 : value < 1000 ? 1 : 0));
const cell = (spread) => (spread.median == null ? '–' : `${format(spread.median)} (${format(spread.min)}–${format(spread.max)})`);

const figureLabels = (reference, window) => ({
  warmAtSeconds: `Warm at, s after launch (first window ≤ ${WARM_WITHIN}× the run's lowest steady CPU, ${format(reference)} µs, and p99 ≤ 50 ms)`,
  firstWindowCpu: `CPU per delivery in the first ${window} s of load (µs)`,
  steadyCpu: 'Steady CPU per delivery, last three windows (µs)',
  firstWindowP99Ms: 'Delivery p99 in the first window (ms)',
  worstP99Ms: 'Worst window p99 (ms)',
});
const LOWER_IS_BETTER = true; // every figure above

/** The Markdown: the figures per system (median (min–max)), then every window. */
function warmupTables({ warmup, warmReference, windowSeconds = 10, repeats }) {
  const systems = Object.keys(warmup);
  const lead = systems.includes('ours-lead') && systems.includes('ours-on');
  const versus = (name) => {
    const ours = warmup['ours-on'].figures[name].median;
    const withLead = warmup['ours-lead'].figures[name].median;
    if (ours == null || withLead == null || ours === 0) return '–';
    if (ours === Infinity || withLead === Infinity) return ours === withLead ? '–' : withLead < ours ? 'better' : 'worse';
    return `${(withLead / ours).toFixed(2)}× ${(LOWER_IS_BETTER ? withLead < ours : withLead > ours) ? '(better)' : '(worse)'}`;
  };
  const figures = [
    `| Figure (median of ${repeats}, min–max) | ${systems.map((s) => NAMES[s]).join(' | ')} |${lead ? ' lead ÷ ours |' : ''}`,
    `|---|${systems.map(() => '---:').join('|')}|${lead ? '---:|' : ''}`,
    ...Object.entries(figureLabels(warmReference, windowSeconds)).map(([name, label]) => `| ${label} | ${systems.map((s) => cell(warmup[s].figures[name])).join(' | ')} |${lead ? ` ${versus(name)} |` : ''}`),
  ];
  const count = Math.min(...systems.map((s) => warmup[s].windows.length));
  const windows = [
    `| Window | ${systems.map((s) => `${NAMES[s]}: ends at s | CPU µs/delivery | p99 ms | deliveries/s`).join(' | ')} |`,
    `|---:|${systems.map(() => '---:|---:|---:|---:').join('|')}|`,
    ...Array.from({ length: count }, (_, k) => `| ${k + 1} | ${systems.map((s) => {
      const w = warmup[s].windows[k];
      return `${format(w.endsAt.median)} | ${cell(w.cpu)} | ${cell(w.p99Ms)} | ${format(w.deliveriesPerSecond.median)}`;
    }).join(' | ')} |`),
  ];
  return `${figures.join('\n')}\n\nEvery window (medians across repeats, min–max):\n\n${windows.join('\n')}`;
}

/** Series for a line chart: median CPU per delivery against seconds since launch, per system. */
function warmupSeries({ warmup }) {
  return Object.entries(warmup).map(([system, { windows }]) => ({
    name: NAMES[system], points: windows.filter((w) => w.cpu.median != null).map((w) => [w.endsAt.median, w.cpu.median]),
  }));
}

module.exports = { warmupHeadline, warmupTables, warmupSeries };
