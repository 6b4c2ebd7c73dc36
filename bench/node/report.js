'use strict';
// Turns a run's results into bench/results/<date>-<machine>.md (tables of figures and ratios), a CSV of every
// row beside it, and PNG charts: latency CDF, CPU per delivery, and the knee ramp.
const fs = require('node:fs');
const path = require('node:path');
const { lineChart, barChart, render } = require('./lib/charts');
const { compareTable, median } = require('./lib/compare');
const { warmupHeadline, warmupTables, warmupSeries } = require('./lib/warmup');
const { passes } = require('./lib/knee');

const ms = (micros) => (micros == null ? '–' : (micros / 1000).toFixed(micros < 10000 ? 2 : 1));
const num = (value, digits = 1) => (value == null || Number.isNaN(value) ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits }));
const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);
const times = (value) => (value == null ? '–' : `${value.toFixed(2)}×`);
const percent = (value) => (value == null ? '–' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`);
const verdict = (ok) => (ok == null ? 'not measured' : ok ? 'met' : '**missed**');

/**
 * Spans every chat message makes at 100% sampling, before anything time-based (heartbeats, connects, joins).
 * Fewer per message than this in a window means the exporter dropped spans. Ours, one replica: SignalR's
 * invocation span, our PRODUCER "send", the Redis EVALSHA client span, the replica's CONSUMER "process".
 * The peer (article's instrumentation): the event span and the io.to span.
 */
const SPANS_EVERY_MESSAGE_MAKES = { 'ours-on': 4, 'peer-on': 2 };


function summarise(rows) {
  const find = (system, workload) => rows.find((row) => row.system === system && row.workload === workload);
  const knee = (system) => {
    const ramp = rows.filter((row) => row.system === system && row.workload === 'W2');
    if (!ramp.length) return null;
    const passing = ramp.filter(passes);
    return {
      // No passing step: the knee is below the ramp's first step, so no figure (and no ratio) is claimed.
      deliveries: passing.length ? Math.max(...passing.map((row) => row.deliveriesPerSecond)) : null,
      firstStep: ramp[0].deliveriesPerSecond,
      capped: passing.length === ramp.length, // the ramp ended before finding the knee
    };
  };
  return { find, knee };
}

/** What people found while profiling (bench/findings.md, dated, written by hand): the report carries it along. */
function findings() {
  return fs.readFileSync(path.join(__dirname, '..', 'findings.md'), 'utf8').trim();
}

function headline(results) {
  const { find, knee } = summarise(results.rows);
  const oursKnee = knee('ours-on'); const peerKnee = knee('peer-on');
  const w1 = (system) => find(system, 'W1');
  const w4 = (system) => find(system, 'W4');
  // CPU per delivery is read at W4's fixed rate, which every system keeps up with (DESIGN: the primary figure).
  const cpu = (system) => w4(system)?.cpuMicrosPerDelivery;
  const p99 = (system) => w1(system)?.latencyMicros[99];
  const cost = (system) => ratio(cpu(system), cpu('ours-off')) - 1;
  const crossReplica = p99('ours-2-on') != null && p99('ours-on') != null ? p99('ours-2-on') - p99('ours-on') : null;
  const idle = find('ours-on', 'W0')?.bytesPerConnection;
  const oursTwoKnee = knee('ours-2-on');
  const twoReplicas = ratio(oursTwoKnee?.deliveries, oursKnee?.deliveries);
  const kneeText = (k) => (k == null ? '–' : k.deliveries == null ? `< ${num(k.firstStep, 0)}` : `${num(k.deliveries, 0)}${k.capped ? ' (ramp top)' : ''}`);
  const lines = [
    ['Knee, deliveries/s (p99 ≤ 50 ms, none lost)', kneeText(oursKnee), kneeText(peerKnee), times(ratio(oursKnee?.deliveries, peerKnee?.deliveries)), '≥ 3× (aim 5×)', verdict(oursKnee && peerKnee ? (oursKnee.deliveries ?? 0) >= 3 * (peerKnee.deliveries ?? Infinity) : null)],
    ['Server CPU per delivery, W4 (µs)', num(cpu('ours-on'), 2), num(cpu('peer-on'), 2), times(ratio(cpu('ours-on'), cpu('peer-on'))), '≤ 8 µs (aim 5)', verdict(cpu('ours-on') != null ? cpu('ours-on') <= 8 : null)],
    ['… with Redis CPU added (µs)', num(w4('ours-on')?.cpuMicrosPerDeliveryWithRedis, 2), num(w4('peer-on')?.cpuMicrosPerDeliveryWithRedis, 2), times(ratio(w4('ours-on')?.cpuMicrosPerDeliveryWithRedis, w4('peer-on')?.cpuMicrosPerDeliveryWithRedis)), '', ''],
    ['Server CPU per delivery, W1 (µs)', num(w1('ours-on')?.cpuMicrosPerDelivery, 2), num(w1('peer-on')?.cpuMicrosPerDelivery, 2), times(ratio(w1('ours-on')?.cpuMicrosPerDelivery, w1('peer-on')?.cpuMicrosPerDelivery)), '', ''],
    ['W1 delivery latency p99 (ms)', ms(p99('ours-on')), ms(p99('peer-on')), times(ratio(p99('ours-on'), p99('peer-on'))), '≤ 5 ms (aim 2)', verdict(p99('ours-on') != null ? p99('ours-on') <= 5000 : null)],
    ['Cross-replica p99 added, W1 (ms)', ms(crossReplica), ms(p99('peer-2-on') != null && p99('peer-on') != null ? p99('peer-2-on') - p99('peer-on') : null), '', '≤ 3 ms (aim 1)', verdict(crossReplica != null ? crossReplica <= 3000 : null)],
    ['Idle memory per connection (KB)', num(idle / 1024), num(find('peer-on', 'W0')?.bytesPerConnection / 1024), times(ratio(idle, find('peer-on', 'W0')?.bytesPerConnection)), '≤ 25 KB (aim 12)', verdict(idle != null ? idle <= 25 * 1024 : null)],
    ['Telemetry cost: metrics only (CPU/delivery vs off)', percent(cost('ours-metrics')), '', '', '≤ 5%', verdict(cpu('ours-metrics') != null ? cost('ours-metrics') <= 0.05 : null)],
    ['Telemetry cost: metrics + 10% traces', percent(cost('ours-traces10')), '', '', '≤ 5%', verdict(cpu('ours-traces10') != null ? cost('ours-traces10') <= 0.05 : null)],
    ['Telemetry cost: metrics + 100% traces', percent(cost('ours-on')), percent(ratio(cpu('peer-on'), cpu('peer-off')) - 1), '', '≤ 15%', verdict(cpu('ours-on') != null && cpu('ours-off') != null ? cost('ours-on') <= 0.15 : null)],
    ['Spans exported per message, W1 (at least)', `${num(w1('ours-on')?.spansPerMessage, 2)} (${SPANS_EVERY_MESSAGE_MAKES['ours-on']})`, `${num(w1('peer-on')?.spansPerMessage, 2)} (${SPANS_EVERY_MESSAGE_MAKES['peer-on']})`, '', 'none dropped in W1', verdict(w1('ours-on') ? w1('ours-on').spansPerMessage >= SPANS_EVERY_MESSAGE_MAKES['ours-on'] : null)],
    ['Two replicas ÷ one, knee on the same core', oursTwoKnee && oursTwoKnee.deliveries == null ? `knee ${kneeText(oursTwoKnee)}` : times(twoReplicas), times(ratio(knee('peer-2-on')?.deliveries, peerKnee?.deliveries)), '', '≥ 0.80×', verdict(oursTwoKnee ? (twoReplicas ?? 0) >= 0.8 : null)],
  ];
  return ['| Figure | RealtimeGateway | Socket.IO peer | ours ÷ peer | Target | |', '|---|---:|---:|---:|---|---|',
    ...lines.map((cells) => `| ${cells.join(' | ')} |`)].join('\n');
}

function chatTable(rows) {
  const header = '| System | Workload | Step | Delivered/s | Lost | Dup | p50 ms | p99 ms | p99.9 ms | Ack p99 ms | CPU µs/delivery | + Redis | Server core use | Server RSS MiB | Spans/msg |';
  const lines = rows.filter((row) => row.latencyMicros).map((row) => `| ${row.label}${row.repeat ? ` (${row.repeat})` : ''} | ${row.workload} | ${row.name} | ${num(row.deliveriesPerSecond, 0)} | ${row.lost} | ${row.duplicated} | ${ms(row.latencyMicros[50])} | ${ms(row.latencyMicros[99])} | ${ms(row.latencyMicros[99.9])} | ${ms(row.ackLatencyMicros[99])} | ${num(row.cpuMicrosPerDelivery, 2)} | ${num(row.cpuMicrosPerDeliveryWithRedis, 2)} | ${num(row.serverCoreUse * 100, 0)}% | ${num(row.serverRssMiB, 0)} | ${num(row.spansPerMessage, 1)} |`);
  return [header, `|${'---|'.repeat(15)}`, ...lines].join('\n');
}

function workerTable(rows) {
  const lines = rows.filter((row) => row.workload === 'W6').map((row) => `| ${row.name} | ${num(row.sent / row.sendSeconds, 0)} | ${row.lost} | ${num(row.workerLagMillis[50], 0)} | ${num(row.workerLagMillis[99], 0)} | ${num(row.workerLagMillis.max, 0)} | ${num(row.helperCpuSeconds / row.seconds * 100, 0)}% | ${num(row.catchUpSeconds, 0)} |`);
  return lines.length ? ['| Offered | Accepted msg/s | Lost deliveries | Lag p50 ms | Lag p99 ms | Lag max ms | Worker core use | Backlog drained before the step (s) |', '|---|---:|---:|---:|---:|---:|---:|---:|', ...lines].join('\n') : '_not run_';
}

function idleTable(rows) {
  const lines = rows.filter((row) => row.workload === 'W0').map((row) => `| ${row.label}${row.repeat ? ` (${row.repeat})` : ''} | ${num(row.connections, 0)} | ${num(row.rssBeforeMiB, 0)} | ${num(row.rssAfterMiB, 0)} | ${num(row.bytesPerConnection / 1024)} | ${num(row.heapBeforeMiB)} | ${num(row.heapAfterMiB)} | ${num(row.heapBytesPerConnection == null ? null : row.heapBytesPerConnection / 1024)} | ${num(row.heapClosedMiB)} |`);
  return ['| System | Idle connections | RSS before MiB | RSS after MiB | KB per connection | Managed heap before MiB | after MiB | heap KB per connection | heap MiB once closed |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|', ...lines].join('\n');
}

function toCsv(rows) {
  const columns = ['system', 'label', 'workload', 'name', 'targetRate', 'seconds', 'sent', 'acked', 'failed', 'expected', 'delivered', 'lost', 'duplicated',
    'deliveriesPerSecond', 'p50_us', 'p99_us', 'p999_us', 'ack_p99_us', 'serverCpuSeconds', 'redisCpuSeconds', 'helperCpuSeconds', 'cpuMicrosPerDelivery',
    'cpuMicrosPerDeliveryWithRedis', 'serverRssMiB', 'spansPerMessage', 'exportBytesPerMessage', 'connections', 'bytesPerConnection', 'workerLag_p50_ms', 'workerLag_p99_ms'];
  const value = (row, column) => ({
    p50_us: row.latencyMicros?.[50], p99_us: row.latencyMicros?.[99], p999_us: row.latencyMicros?.[99.9], ack_p99_us: row.ackLatencyMicros?.[99],
    workerLag_p50_ms: row.workerLagMillis?.[50], workerLag_p99_ms: row.workerLagMillis?.[99],
  }[column] ?? row[column] ?? '');
  const cell = (text) => (/[",\n]/.test(String(text)) ? `"${String(text).replace(/"/g, '""')}"` : String(text));
  return [columns.join(','), ...rows.map((row) => columns.map((column) => cell(typeof value(row, column) === 'number' ? +value(row, column).toPrecision(6) : value(row, column))).join(','))].join('\n') + '\n';
}

function charts(results, base) {
  // Curves (the CDF, the ramp) are one repeat's, the first; CPU per delivery is each system's median, as in the table.
  const rows = results.rows.filter((row) => !row.repeat || row.repeat === 1);
  const ofFirstRepeat = results.repeats ? ', first repeat' : '';
  const nines = (p) => (p >= 100 ? 4.3 : -Math.log10(1 - p / 100));
  const w1 = rows.filter((row) => row.workload === 'W1');
  const w4 = results.rows.filter((row) => row.workload === 'W4');
  // A chart only for what the run measured (a W0-only lead draws none).
  const files = [];
  if (w1.length) files.push(render(lineChart({
    title: `W1 delivery latency distribution (rooms of 10, 1 msg/s per client${ofFirstRepeat})`, xLabel: 'percentile', yLabel: 'latency (ms, log scale)', logY: true,
    series: w1.map((row) => ({ name: row.label, points: row.latencyCdf.filter(([p]) => p > 0).map(([p, micros]) => [p, micros / 1000]) })),
    xScale: nines, xTicks: [[10, 'p10'], [50, 'p50'], [90, 'p90'], [99, 'p99'], [99.9, 'p99.9'], [99.99, 'p99.99']],
  }), `${base}-latency-cdf`));
  if (w4.length) files.push(render(barChart({
    title: 'Server CPU per delivered message at 10k deliveries/s (W4)', xLabel: 'µs of server-process CPU per delivery (lower is better)',
    bars: cpuBars(w4),
  }), `${base}-cpu-per-delivery`));
  const rampSystems = [...new Set(rows.filter((row) => row.workload === 'W2').map((row) => row.system))];
  if (rampSystems.length) files.push(render(lineChart({
    title: `W2 ramp: delivery p99 as offered load grows (knee at 50 ms${ofFirstRepeat})`, xLabel: 'deliveries per second achieved', yLabel: 'p99 latency (ms, log scale)', logY: true,
    series: rampSystems.map((system) => {
      const ramp = rows.filter((row) => row.system === system && row.workload === 'W2');
      return { name: ramp[0].label, points: ramp.map((row) => [row.deliveriesPerSecond, Math.max(0.1, row.latencyMicros[99] / 1000)]) };
    }),
    xTicks: [0, 20000, 40000, 60000, 80000, 100000, 120000, 150000, 200000].map((x) => [x, `${x / 1000}k`]),
  }), `${base}-knee`));
  return files;
}

/** One bar per system: its W4 row, or with repeats the median of them (the table's figure) and their spread. */
function cpuBars(w4) {
  return [...new Set(w4.map((row) => row.system))].map((system) => {
    const runs = w4.filter((row) => row.system === system);
    const cpu = runs.map((row) => row.cpuMicrosPerDelivery);
    const value = median(cpu);
    const withRedis = median(runs.map((row) => row.cpuMicrosPerDeliveryWithRedis));
    const spread = runs.length > 1 ? `median of ${runs.length}, ${Math.min(...cpu).toFixed(1)}–${Math.max(...cpu).toFixed(1)}; ` : '';
    return { name: runs[0].label, value, note: `${value.toFixed(1)} µs (${spread}with Redis ${withRedis.toFixed(1)})` };
  });
}

function warmupChart(results, base) {
  return render(lineChart({
    title: 'Time to warm: CPU per delivery from launch, W1 load (medians)', xLabel: 'seconds since the gateway was launched',
    yLabel: 'server CPU per delivery (µs)', series: warmupSeries(results), xTicks: Array.from({ length: 11 }, (_, i) => [i * 20, String(i * 20)]),
  }), `${base}-warmup`);
}

async function writeReport(results, base) {
  const name = path.basename(base);
  // With repeats, the curve charts show the first repeat and the CPU chart each system's median; the headline holds every repeat.
  const files = (results.warmup ? [warmupChart(results, base)] : charts(results, base)).map((file) => path.basename(file));
  fs.writeFileSync(`${base}.csv`, toCsv(results.rows));
  const rows = results.rows;
  const markdown = `# Benchmark: RealtimeGateway against the article's Socket.IO server — ${results.date}

Profile \`${results.profile}\` on ${results.machine} (${results.cpu}, ${results.cores} cores), .NET SDK ${results.dotnet}
(${results.configuration}), Node ${results.node}; ${results.minutes.toFixed(1)} minutes. Produced by \`./bench.sh ${results.profile}\`;
raw rows in [${name}.csv](${name}.csv).

How it was measured: each system under test (its server processes and its Redis) pinned to core 0, the load
generator (raw-protocol WebSocket clients, one Node process), the orchestrator and the OTLP sink on core 1.
Every chat message carries its send time; each delivery's latency goes into an HDR histogram. CPU is the
server processes' user+system time from \`/proc/<pid>/stat\` across the measured step divided by deliveries
(Redis's own CPU is shown beside it); memory is \`VmRSS\`. Telemetry, where on, is exported over OTLP/HTTP to
a sink that counts spans and discards everything. All systems ran one after another in this run. Before
its measured steps each system runs unmeasured at half the W1 rate (.NET 75 s in \`full\`, because its
tiered JIT keeps compiling for a minute or more on one core; Node 5 s). W4 (10k deliveries/s) is the fixed
rate every system keeps up with, so CPU per delivery and the telemetry matrix are read there; W1 is the
issue's 2,000 clients in rooms of 10 at 1 message/s (20k deliveries/s).

${results.warmup ? `## Time to warm: medians of ${results.repeats} interleaved repeats (telemetry on)

Each repeat starts a fresh gateway and Redis, connects W1's 2,000 clients (rooms of 10) as soon as it answers, and
sends 1 message/s per client (20k deliveries/s) for ${results.rows.find((row) => row.workload === 'WU')?.sendSeconds?.toFixed(0) ?? '–'} s with no warm-up before it, sampling
CPU at every ${results.windowSeconds ?? 10} s window's edge. Times count from the gateway's launch.${results.lead ? ` The lead: ${results.lead}; each repeat runs ours, then ours with the lead.` : ''}

${warmupTables(results)}` : results.headline ? `## Headline: medians of ${results.repeats} interleaved repeats (telemetry on for ours and the peer)

${results.profile === 'lead'
    ? `The lead: ${results.lead}. Each repeat runs ours and ours with the lead, every other repeat in the reverse order (A B, B A, A B, …)`
    : results.profile === 'memory'
    ? `Each repeat runs ours, the peer, plain SignalR and Kestrel's WebSockets with no SignalR (\`bench/PlainWebSocket\`, the floor any .NET WebSocket server starts from), each warmed up as usual and then holding W0's idle connections, every other repeat in the reverse order (A B C D, D C B A, A B C D, …)`
    : `Each repeat runs ours, the peer, plain SignalR and plain SignalR + Redis${results.lead ? ` and ours with a lead (${results.lead})` : ''} one after another, every other repeat in the reverse order (A B C D, D C B A, A B C D, …)`};
each cell is the median with the lowest and highest of the repeats. "ahead"/"behind" compares the medians. The
managed heap is read with dotnet-gcdump (a full blocking GC) before and after the idle connections.${results.workloads
    ? ` This run measured ${results.workloads.join(', ')} only (\`BENCH_WORKLOADS\`), after each system's warm-up: the figures of the others are not in it.` : ''}

${compareTable(results)}` : `## Headline (telemetry on, both sides)

${headline(results)}`}

## Every chat step

${chatTable(rows)}

Ack p99 is send → acknowledgement: for RealtimeGateway the message is durable in Redis by then; the peer
acknowledges from memory.

## Idle connections (W0)

${idleTable(rows)}

## Worker lag (W6)

Age of the oldest room message the \`chat-worker\` group has not finished, sampled from Redis every 100 ms,
with the gateway, worker and Redis sharing core 0.

${workerTable(rows)}

${findings()}

## Charts

${files.map((file) => `![${file}](${file})`).join('\n\n')}
`;
  fs.writeFileSync(`${base}.md`, markdown);
  return [`${base}.md`, `${base}.csv`, ...files.map((file) => path.join(path.dirname(base), file))];
}

module.exports = { writeReport, passes };

if (require.main === module) {
  // Re-render a report from a results file: node report.js bench/results/<run>.json
  const file = path.resolve(process.argv[2]);
  const results = JSON.parse(fs.readFileSync(file, 'utf8'));
  // A warmup run's figures are recomputed from its windows: how they are read may have changed since.
  if (results.profile === 'warmup') Object.assign(results, warmupHeadline(results.rows));
  writeReport(results, file.replace(/\.json$/, '')).then((files) => console.log(files.join('\n')));
}
