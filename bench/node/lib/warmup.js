'use strict';
// The `warmup` profile's figures: how fast a freshly started gateway reaches its steady cost under W1's load.
// A replica started by a scale-out or a restart takes its share of reconnecting clients at once, so the minute
// its JIT spends compiling is paid by real users; this reads it from the WU workload's 10 s windows.
const { median } = require('./compare');

const NAMES = { 'ours-on': 'ours', 'ours-lead': 'ours with the lead' };
// A window is warm when it costs at most this much more than the run's steady state and meets the knee's p99.
const WARM_WITHIN = 1.2;
const WARM_P99_MICROS = 50_000;

/** One repeat's figures: steady CPU (median of the last three windows), when it got there, the first window's cost. */
function ofRun(windows) {
  const cpu = windows.map((w) => w.cpuMicrosPerDelivery);
  const steady = median(cpu.slice(-3));
  const warm = windows.find((w) => w.cpuMicrosPerDelivery != null && w.cpuMicrosPerDelivery <= WARM_WITHIN * steady && w.latencyMicros[99] <= WARM_P99_MICROS);
  return {
    steadyCpu: steady,
    warmAtSeconds: warm?.endsAtSeconds ?? null,
    firstWindowCpu: cpu[0],
    firstWindowP99Ms: windows[0] ? windows[0].latencyMicros[99] / 1000 : null,
    worstP99Ms: Math.max(...windows.map((w) => w.latencyMicros[99])) / 1000,
  };
}

const spreadOf = (values) => {
  const measured = values.filter((v) => v != null);
  return { median: median(values), min: measured.length ? Math.min(...measured) : null, max: measured.length ? Math.max(...measured) : null, values };
};

/** { warmup: { system: { figures: { name: spread }, windows: [{ endsAt, cpu, p99Ms, deliveriesPerSecond } as spreads] } } } */
function warmupHeadline(rows) {
  const warmup = {};
  for (const system of Object.keys(NAMES)) {
    const runs = rows.filter((row) => row.system === system && row.workload === 'WU' && row.windows?.length);
    if (!runs.length) continue;
    const perRun = runs.map((row) => ofRun(row.windows));
    const figures = Object.fromEntries(Object.keys(perRun[0]).map((name) => [name, spreadOf(perRun.map((run) => run[name]))]));
    const count = Math.min(...runs.map((row) => row.windows.length));
    const windows = Array.from({ length: count }, (_, k) => ({
      endsAt: spreadOf(runs.map((row) => row.windows[k].endsAtSeconds)),
      cpu: spreadOf(runs.map((row) => row.windows[k].cpuMicrosPerDelivery)),
      p99Ms: spreadOf(runs.map((row) => row.windows[k].latencyMicros[99] / 1000)),
      deliveriesPerSecond: spreadOf(runs.map((row) => row.windows[k].deliveriesPerSecond)),
    }));
    warmup[system] = { figures, windows };
  }
  return { warmup, repeats: Math.max(0, ...rows.map((row) => row.repeat ?? 0)) };
}

const format = (value) => (value == null ? '–' : value.toFixed(value < 10 ? 2 : value < 1000 ? 1 : 0));
const cell = (spread) => (spread.median == null ? '–' : `${format(spread.median)} (${format(spread.min)}–${format(spread.max)})`);

const FIGURE_LABELS = {
  warmAtSeconds: `Warm at, s after launch (first window ≤ ${WARM_WITHIN}× steady CPU and p99 ≤ 50 ms)`,
  firstWindowCpu: 'CPU per delivery in the first 10 s of load (µs)',
  steadyCpu: 'Steady CPU per delivery, last three windows (µs)',
  firstWindowP99Ms: 'Delivery p99 in the first window (ms)',
  worstP99Ms: 'Worst window p99 (ms)',
};
const LOWER_IS_BETTER = true; // every figure above

/** The Markdown: the figures per system (median (min–max)), then every window. */
function warmupTables({ warmup, repeats }) {
  const systems = Object.keys(warmup);
  const lead = systems.includes('ours-lead') && systems.includes('ours-on');
  const versus = (name) => {
    const ours = warmup['ours-on'].figures[name].median;
    const withLead = warmup['ours-lead'].figures[name].median;
    if (ours == null || withLead == null || ours === 0) return '–';
    return `${(withLead / ours).toFixed(2)}× ${(LOWER_IS_BETTER ? withLead < ours : withLead > ours) ? '(better)' : '(worse)'}`;
  };
  const figures = [
    `| Figure (median of ${repeats}, min–max) | ${systems.map((s) => NAMES[s]).join(' | ')} |${lead ? ' lead ÷ ours |' : ''}`,
    `|---|${systems.map(() => '---:').join('|')}|${lead ? '---:|' : ''}`,
    ...Object.entries(FIGURE_LABELS).map(([name, label]) => `| ${label} | ${systems.map((s) => cell(warmup[s].figures[name])).join(' | ')} |${lead ? ` ${versus(name)} |` : ''}`),
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
