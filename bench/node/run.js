'use strict';
// The benchmark orchestrator: `node run.js quick|full|smoke [--configuration Release|Debug]`.
// Starts each system under test pinned to core 0 (with its Redis), drives it with loadgen.js on core 1,
// samples CPU and memory from /proc at the start and end of every measured step, and writes the results
// (JSON, then the report: Markdown, CSV, PNG charts) to bench/results.
const { fork, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const profiles = require('./lib/profiles');
const { startSink } = require('./lib/otlp-sink');
const { cpuSeconds, rssBytes, freePort, startPinned, killAll } = require('./lib/processes');
const { sampleWorkerLag, waitForWorker } = require('./lib/worker-lag');
const { writeReport } = require('./report');
const { passes } = require('./lib/knee');
const { COMPARED, MEMORY_COMPARED, compareHeadline } = require('./lib/compare');
const { warmupHeadline } = require('./lib/warmup');
const { managedHeapBytes } = require('./lib/heap');

const REPO = path.resolve(__dirname, '../..');
const SIGNING_KEY = 'benchmark-only-signing-key-0123456789-abcdefghij';
// Both sides batch spans for at most 1 s (what Aspire gives its services for the dashboard) and export metrics every 5 s.
const EXPORT_DELAY_MS = 1000;
const EXPORT_SETTINGS = { OTEL_BSP_SCHEDULE_DELAY: String(EXPORT_DELAY_MS), OTEL_METRIC_EXPORT_INTERVAL: '5000' };

const args = process.argv.slice(2);
const profileName = args[0];
const configuration = args.includes('--configuration') ? args[args.indexOf('--configuration') + 1] : 'Release';
if (!profiles[profileName]) {
  console.error('usage: node run.js quick|full|compare|lead|warmup|memory|smoke [--configuration Release|Debug]');
  process.exit(2);
}
// BENCH_REPEATS=8: the interleaved repeats of compare, lead and warmup (three by default). W4's CPU per delivery moves
// 13-22% between identical processes and hardly within one (bench/findings.md): only more processes resolve an effect
// smaller than that. A lead pair is two processes, each with its 75 s warm-up: about 4 minutes at W4,W1.
const REPEATS = process.env.BENCH_REPEATS?.trim();
if (REPEATS && !(['compare', 'lead', 'warmup', 'memory'].includes(profileName) && /^\d+$/.test(REPEATS) && +REPEATS >= 1 && +REPEATS <= 20)) {
  console.error(`BENCH_REPEATS: '${REPEATS}' must be a whole number from 1 to 20, with the compare, lead, warmup or memory profile (this is ${profileName})`);
  process.exit(2);
}
const profile = REPEATS ? { ...profiles[profileName], repeats: +REPEATS } : profiles[profileName];
const stamp = new Date().toISOString().slice(0, 10);
const outputDirectory = profileName === 'smoke' ? path.join(REPO, 'artifacts', 'bench-smoke') : path.join(REPO, 'bench', 'results');
// The servers' logs of this profile's last run, one per process.
const logDirectory = path.join(REPO, 'artifacts', 'bench-logs', profileName);
fs.rmSync(logDirectory, { recursive: true, force: true });
const log = (text) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${text}`);

function assembly(project, root = REPO) {
  const file = path.join(root, ...project.split('/'), 'bin', configuration, 'net10.0', `${path.basename(project)}.dll`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: build it first (dotnet build -c ${configuration})`);
  return file;
}

// ---- systems under test -------------------------------------------------------------------------------

async function startRedis(directives = {}) {
  const port = await freePort();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  // As the AppHost runs it: append-only file, fsync every second, rewritten from 256 MB.
  const redis = await startPinned({
    name: `redis-${port}`, command: 'redis-server', cwd: directory, port, logDirectory,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--auto-aof-rewrite-min-size', '256mb', '--dir', directory,
      ...Object.entries(directives).flatMap(([name, value]) => [`--${name}`, value])],
  });
  return { ...redis, url: `redis://127.0.0.1:${port}`, address: `127.0.0.1:${port}`, directory };
}

async function startPeer(name, { telemetry, redis, sink }) {
  const port = await freePort();
  const server = await startPinned({
    name, command: process.execPath, args: [path.join(__dirname, 'peer-server.js')], cwd: __dirname, port, logDirectory,
    env: {
      PORT: String(port), NODE_ENV: 'production', PEER_TELEMETRY: telemetry ? 'on' : 'off', PEER_MAX_CONNECTIONS: '20000',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, ...EXPORT_SETTINGS, ...(redis ? { PEER_REDIS_URL: redis.url } : {}),
    },
  });
  return { ...server, url: `http://127.0.0.1:${port}` };
}

const TELEMETRY_SETTINGS = {
  off: { Telemetry__Traces: 'false', Telemetry__Metrics: 'false' },
  metrics: { Telemetry__Traces: 'false', Telemetry__Metrics: 'true' },
  traces10: { Telemetry__Traces: 'true', Telemetry__Metrics: 'true', Telemetry__TraceSampleRatio: '0.1' },
  on: { Telemetry__Traces: 'true', Telemetry__Metrics: 'true', Telemetry__TraceSampleRatio: '1.0' },
};

// Every .NET server runs as in production, but with the workstation collector: pinned to one core, the server
// collector would run a single heap anyway (bench/README.md).
const DOTNET_ENVIRONMENT = { ASPNETCORE_ENVIRONMENT: 'Production', DOTNET_gcServer: '0' };

async function startDotnet(name, project, { redis, sink, telemetry, env = {}, root = REPO }) {
  const port = await freePort();
  const exporting = telemetry && telemetry !== 'off';
  const server = await startPinned({
    name, command: 'dotnet', args: [assembly(project, root), '--urls', `http://127.0.0.1:${port}`], cwd: path.join(root, project), port, logDirectory,
    env: {
      ...DOTNET_ENVIRONMENT,
      ...(redis ? { ConnectionStrings__redis: redis.address } : {}),
      OTEL_SERVICE_NAME: name.replace(/-\d+$/, ''),
      OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${name}`,
      ...(exporting ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', ...EXPORT_SETTINGS } : { OTEL_EXPORTER_OTLP_ENDPOINT: '' }),
      ...(telemetry ? TELEMETRY_SETTINGS[telemetry] : {}),
      ...env,
    },
  });
  return { ...server, url: `http://127.0.0.1:${port}` };
}

// Development tokens (the gateway runs as Production here), and no sign-in rate limit: thousands of clients sign in at once.
const gatewaySettings = {
  Auth__SigningKey: SIGNING_KEY, Auth__DevelopmentTokens: 'true', Auth__TokenRequests__PermitsPerMinute: '60000', Auth__TokenRequests__Burst: '100000',
  Chat__Limits__MaxConnections: '20000', Chat__Limits__MaxConnectionsPerReplica: '20000',
};

// BENCH_BASELINE=<another checkout, built in Release>: "ours" runs from there, so a change that is code, not a
// setting, is measured against the code before it (the lead is then this checkout, plus BENCH_LEAD if any).
// The profiles that measure a lead against ours: `lead` (steady state) and `warmup` (time to warm).
const LEAD_PROFILE = ['lead', 'warmup'].includes(profileName);
const BASELINE = LEAD_PROFILE && process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : null;
const LEAD_TEXT = [process.env.BENCH_LEAD?.trim(), LEAD_PROFILE && process.env.BENCH_OFF?.trim() && `against ${process.env.BENCH_OFF.trim()}`,
  BASELINE && `this checkout against ${path.basename(BASELINE)}`].filter(Boolean).join('; ');
const settingsFrom = (variable) => Object.fromEntries((process.env[variable] ?? '').split(';').filter((pair) => pair.trim()).map((pair) => {
  const equals = pair.indexOf('=');
  if (equals <= 0) throw new Error(`${variable}: '${pair}' is not Setting=value (e.g. Chat__History__MaxAppendBatch=1)`);
  return [pair.slice(0, equals).trim(), pair.slice(equals + 1).trim()];
}));
const LEAD_SETTINGS = settingsFrom('BENCH_LEAD');
// BENCH_OFF: settings for ours in the lead profile, when the lead is on by default and turning it off is a setting.
const OFF_SETTINGS = LEAD_PROFILE ? settingsFrom('BENCH_OFF') : {};
// BENCH_WORKLOADS=W0,W4: the lead or compare profile's workloads (the warm-up comes first), when a lead can only move
// some figures, or when a compare spends its time on more repeats of the figures in doubt (BENCH_REPEATS=8 with W4,W1).
const WORKLOADS_ASKED = process.env.BENCH_WORKLOADS?.trim()
  ? process.env.BENCH_WORKLOADS.split(',').map((w) => w.trim()).filter((w) => w && w !== 'warm') : null;
if (WORKLOADS_ASKED && !['lead', 'compare'].includes(profileName)) {
  console.error(`BENCH_WORKLOADS: only the lead and compare profiles take it (this is ${profileName})`);
  process.exit(2);
}
if (WORKLOADS_ASKED && (!WORKLOADS_ASKED.length || WORKLOADS_ASKED.some((w) => !['W0', 'W1', 'W2', 'W4'].includes(w)))) {
  console.error(`BENCH_WORKLOADS: '${process.env.BENCH_WORKLOADS}' must name one or more of W0, W1, W2 and W4, separated by commas`);
  process.exit(2);
}
const CHOSEN_WORKLOADS = WORKLOADS_ASKED && ['warm', ...WORKLOADS_ASKED];
refuseLeadThatChangesNothing();
if (['lead'].includes(profileName) && !LEAD_TEXT) {
  console.error('the lead profile needs BENCH_LEAD="Setting=value;…" (the gateway settings that turn the lead on or off) and/or BENCH_OFF="Setting=value;…" (ours with the lead off) and/or BENCH_BASELINE=<checkout built in Release> (the code before the lead)');
  process.exit(2);
}

/**
 * A lead whose settings ours already runs with measures nothing but the bench's noise: two such runs read "0.83×,
 * better in every pair" and "1.07× in every pair" (bench/findings.md). Refused, naming where ours gets the value:
 * the harness's environment, BENCH_OFF, or the gateway's runtimeconfig (the runtime knobs below). The runtime reads
 * a DOTNET_ variable's number as hexadecimal, so DOTNET_X=70 means 112: such values are warned about.
 */
function refuseLeadThatChangesNothing() {
  if (!Object.keys(LEAD_SETTINGS).length || BASELINE) return;
  const knobs = {
    DOTNET_gcServer: 'System.GC.Server',
    DOTNET_gcConcurrent: 'System.GC.Concurrent',
    DOTNET_ThreadPool_UnfairSemaphoreSpinLimit: 'System.Threading.ThreadPool.UnfairSemaphoreSpinLimit',
    DOTNET_TC_CallCountingDelayMs: 'System.Runtime.TieredCompilation.CallCountingDelayMs',
    DOTNET_TieredCompilation: 'System.Runtime.TieredCompilation',
    DOTNET_TieredPGO: 'System.Runtime.TieredPGO',
  };
  const runtimeconfigPath = path.join(REPO, 'RealtimeGateway', 'bin', configuration, 'net10.0', 'RealtimeGateway.runtimeconfig.json');
  const runtimeconfig = fs.existsSync(runtimeconfigPath) ? JSON.parse(fs.readFileSync(runtimeconfigPath, 'utf8')).runtimeOptions?.configProperties ?? {} : {};
  const asNumber = (value) => (typeof value === 'boolean' ? Number(value) : typeof value === 'number' ? value : parseInt(value, 16));
  const unchanged = Object.entries(LEAD_SETTINGS).map(([name, value]) => {
    if (name.startsWith('DOTNET_') && /^\d{2,}$/.test(value)) {
      console.error(`BENCH_LEAD: the runtime reads ${name}=${value} as hexadecimal (${parseInt(value, 16)})`);
    }
    const sources = [['BENCH_OFF', OFF_SETTINGS[name]], ['the harness', { ...DOTNET_ENVIRONMENT, ...gatewaySettings }[name]],
      ['RealtimeGateway.runtimeconfig.json', runtimeconfig[knobs[name]]]];
    const [source, current] = sources.find(([, v]) => v !== undefined) ?? [];
    const same = current !== undefined && (name.startsWith('DOTNET_') ? asNumber(current) === asNumber(value) : String(current) === value);
    return same ? `${name}=${value} (ours has it from ${source})` : null;
  });
  if (unchanged.every(Boolean)) {
    console.error(`BENCH_LEAD changes nothing ours runs with: ${unchanged.join(', ')}`);
    process.exit(2);
  }
}

/** Every system the report compares: what runs, and how the generator talks to it. */
const SYSTEMS = {
  'peer-off': { label: 'Socket.IO (article), telemetry off', protocol: 'socketio', runtime: 'node', start: (sink) => startSystem({ peers: 1, telemetry: false, sink }) },
  'peer-on': { label: 'Socket.IO (article), telemetry on', protocol: 'socketio', runtime: 'node', start: (sink) => startSystem({ peers: 1, telemetry: true, sink }) },
  'peer-2-on': { label: 'Socket.IO ×2 + Redis adapter, telemetry on', protocol: 'socketio', runtime: 'node', start: (sink) => startSystem({ peers: 2, telemetry: true, redis: true, sink }) },
  'ours-off': { label: 'RealtimeGateway, telemetry off', protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ gateways: 1, telemetry: 'off', sink }) },
  'ours-metrics': { label: 'RealtimeGateway, metrics only', protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ gateways: 1, telemetry: 'metrics', sink }) },
  'ours-traces10': { label: 'RealtimeGateway, metrics + 10% traces', protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ gateways: 1, telemetry: 'traces10', sink }) },
  'ours-on': { label: `RealtimeGateway, telemetry on (100% traces)${BASELINE ? `, from ${path.basename(BASELINE)}` : ''}${Object.keys(OFF_SETTINGS).length ? `, with ${process.env.BENCH_OFF.trim()}` : ''}`, protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ gateways: 1, telemetry: 'on', sink, root: BASELINE ?? REPO, extraEnv: OFF_SETTINGS }) },
  'ours-2-on': { label: 'RealtimeGateway ×2, telemetry on', protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ gateways: 2, telemetry: 'on', sink }) },
  'ours-worker': { label: 'RealtimeGateway + ChatWorker, telemetry on', protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ gateways: 1, telemetry: 'on', worker: true, sink }) },
  // A lead under test (BENCH_LEAD="Setting=value;…", the gateway's configuration as environment variables): the
  // `lead` profile and `compare` run it beside ours-on, so a change is measured on and off in one run.
  'ours-lead': { label: `RealtimeGateway, telemetry on, with ${LEAD_TEXT}`, protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ gateways: 1, telemetry: 'on', sink, extraEnv: LEAD_SETTINGS }) },
  'plain': { label: 'Plain SignalR hub, no backplane', protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ plain: true, sink }) },
  'plain-redis': { label: 'Plain SignalR hub + Redis backplane', protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ plain: true, redis: true, sink }) },
  // The floor under every .NET figure: Kestrel's WebSockets answering the hub protocol by hand, no SignalR (`memory`).
  'websocket': { label: 'Kestrel WebSockets, no SignalR', protocol: 'signalr', runtime: 'dotnet', start: (sink) => startSystem({ websocket: true, sink }) },
};

async function startSystem({ peers = 0, gateways = 0, plain = false, websocket = false, worker = false, telemetry, redis: wantsRedis, sink, extraEnv = {}, root = REPO }) {
  const system = { servers: [], redis: null, helpers: [] };
  // A setting named redis:<directive> (BENCH_LEAD="redis:auto-aof-rewrite-min-size=1gb") is for the system's Redis.
  const redisDirectives = Object.fromEntries(Object.entries(extraEnv).filter(([name]) => name.startsWith('redis:')).map(([name, value]) => [name.slice('redis:'.length), value]));
  extraEnv = Object.fromEntries(Object.entries(extraEnv).filter(([name]) => !name.startsWith('redis:')));
  try {
    if (wantsRedis || gateways > 0) system.redis = await startRedis(redisDirectives);
    // Time to warm is counted from here: the servers' launch.
    system.launchedAt = process.hrtime.bigint();
    for (let i = 0; i < peers; i++) system.servers.push(await startPeer(`peer-${i + 1}`, { telemetry, redis: wantsRedis ? system.redis : null, sink }));
    // One at a time: on one core, parallel .NET start-ups only slow each other down.
    for (let i = 0; i < gateways; i++) {
      system.servers.push(await startDotnet(`realtime-gateway-${i + 1}`, 'RealtimeGateway', { redis: system.redis, sink, telemetry, env: { ...gatewaySettings, ...extraEnv }, root }));
    }
    if (plain) system.servers.push(await startDotnet('plain-signalr-1', 'bench/PlainSignalR', { redis: system.redis }));
    if (websocket) system.servers.push(await startDotnet('plain-websocket-1', 'bench/PlainWebSocket', {}));
    if (worker) system.helpers.push(await startDotnet('chat-worker-1', 'ChatWorker', { redis: system.redis, sink, telemetry }));
    return system;
  } catch (error) {
    await stopSystem(system);
    throw error;
  }
}

async function stopSystem(system) {
  for (const process of [...system.helpers, ...system.servers].reverse()) await process.stop();
  if (system.redis) {
    await system.redis.stop();
    fs.rmSync(system.redis.directory, { recursive: true, force: true });
  }
}

// ---- measurement --------------------------------------------------------------------------------------

function sample(system, sink) {
  const processes = [...system.servers, ...system.helpers];
  return {
    at: process.hrtime.bigint(),
    serverCpu: system.servers.reduce((sum, server) => sum + cpuSeconds(server.pid), 0),
    helperCpu: system.helpers.reduce((sum, helper) => sum + cpuSeconds(helper.pid), 0),
    redisCpu: system.redis ? cpuSeconds(system.redis.pid) : 0,
    serverRss: system.servers.reduce((sum, server) => sum + rssBytes(server.pid), 0),
    rss: Object.fromEntries(processes.map((p) => [p.name, rssBytes(p.pid)])),
    spans: sink.totals.spans,
    exportBytes: sink.totals.bytes,
  };
}

/** Runs loadgen.js with a config and returns its result with the server samples taken at its marks. */
function drive(system, sink, config, onMark) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'loadgen.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const marks = {};
    child.on('message', async (message) => {
      if (message.type === 'progress') log(`  ${message.text}`);
      if (message.type === 'mark') {
        const mark = sample(system, sink);
        marks[message.name] = mark;
        // Spans reach the sink up to one export delay (OTEL_BSP_SCHEDULE_DELAY) after they end: count them late.
        setTimeout(() => { mark.spans = sink.totals.spans; }, EXPORT_DELAY_MS + 500);
        await onMark?.(message.name, marks);
        child.send({ type: 'marked' });
      }
      if (message.type === 'result') setTimeout(() => resolve({ ...message.result, marks }), EXPORT_DELAY_MS + 600);
      if (message.type === 'error') reject(new Error(message.message));
    });
    child.on('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
    child.send({ type: 'run', config });
  });
}

function chatConfig(systemKey, system, { clients, roomSize, steps, kind = 'raw' }) {
  const definition = SYSTEMS[systemKey];
  return {
    mode: 'chat', protocol: definition.protocol, kind, clients, roomSize, steps, drain: 5,
    baseUrls: system.servers.map((server) => server.url),
    signingKey: systemKey.startsWith('ours') ? SIGNING_KEY : null,
    userPrefix: `u${Date.now().toString(36)}-`, roomPrefix: `room-${Date.now().toString(36)}-`, textBytes: 64,
  };
}

function stepFigures(step, marks, index, launchedAt) {
  const start = marks[`start:${index}`];
  const end = marks[`end:${index}`];
  const serverCpu = end.serverCpu - start.serverCpu;
  const redisCpu = end.redisCpu - start.redisCpu;
  const helperCpu = end.helperCpu - start.helperCpu;
  const seconds = Number(end.at - start.at) / 1e9;
  return {
    ...step,
    seconds,
    serverCpuSeconds: serverCpu,
    redisCpuSeconds: redisCpu,
    helperCpuSeconds: helperCpu,
    serverCoreUse: serverCpu / seconds,
    cpuMicrosPerDelivery: step.delivered ? (serverCpu / step.delivered) * 1e6 : null,
    cpuMicrosPerDeliveryWithRedis: step.delivered ? ((serverCpu + redisCpu) / step.delivered) * 1e6 : null,
    serverRssMiB: end.serverRss / 2 ** 20,
    spansPerMessage: step.sent ? (end.spans - start.spans) / step.sent : 0,
    exportBytesPerMessage: step.sent ? (end.exportBytes - start.exportBytes) / step.sent : 0,
    ...(step.windows ? { windows: windowFigures(step, marks, index, launchedAt) } : {}),
  };
}

/** A windowed step's windows: each one's CPU per delivery and latency, and when it ended, counted from the server's launch. */
function windowFigures(step, marks, index, launchedAt) {
  return step.windows.map((window, k) => {
    const start = k === 0 ? marks[`start:${index}`] : marks[`window:${index}:${k - 1}`];
    const end = marks[`window:${index}:${k}`];
    const serverCpu = end.serverCpu - start.serverCpu;
    const seconds = Number(end.at - start.at) / 1e9;
    return {
      endsAtSeconds: launchedAt ? Number(end.at - launchedAt) / 1e9 : null,
      seconds, sent: window.sent, delivered: window.delivered, deliveriesPerSecond: window.delivered / seconds,
      serverCoreUse: serverCpu / seconds,
      cpuMicrosPerDelivery: window.delivered ? (serverCpu / window.delivered) * 1e6 : null,
      cpuMicrosPerDeliveryWithRedis: window.delivered ? ((serverCpu + end.redisCpu - start.redisCpu) / window.delivered) * 1e6 : null,
      latencyMicros: window.latencyMicros,
    };
  });
}


async function runChatWorkload(workload, systemKey, system, sink, options) {
  const steps = options.steps;
  const result = await drive(system, sink, chatConfig(systemKey, system, { ...options, steps }), options.onMark);
  return result.steps.map((step, index) => ({ workload, system: systemKey, ...stepFigures(step, result.marks, index, system.launchedAt) }));
}

async function runW2(systemKey, system, sink, w2) {
  // One step at a time, so the ramp stops at the first step past the knee instead of overloading for minutes.
  const rows = [];
  for (const rate of w2.messageRates) {
    const [row] = await runChatWorkload('W2', systemKey, system, sink, {
      clients: w2.clients, roomSize: w2.roomSize, steps: [{ name: `${rate * w2.roomSize}/s`, totalRate: rate, warmup: w2.warmup, duration: w2.seconds }],
    });
    rows.push(row);
    if (!passes(row)) break;
  }
  return rows;
}

async function runW0(systemKey, system, sink, w0) {
  const definition = SYSTEMS[systemKey];
  // .NET servers: the managed heap after a full GC at both marks too, taken just after the mark's RSS reading.
  const heap = {};
  const measureHeap = definition.runtime === 'dotnet' && w0.heap
    ? async (name) => { heap[name] = await sumOrNull(system.servers.map((server) => managedHeapBytes(server.pid, log))); }
    : null;
  const result = await drive(system, sink, {
    mode: 'idle', protocol: definition.protocol, kind: 'raw', clients: w0.connections, connectConcurrency: 100,
    baseUrls: system.servers.map((server) => server.url), signingKey: systemKey.startsWith('ours') ? SIGNING_KEY : null,
    userPrefix: `idle${Date.now().toString(36)}-`,
  }, measureHeap);
  const { before, connected } = result.marks;
  // The closes' own work (our gateway's registry clean-up, 10,000 at once) must not land in the next workload's
  // figures, nor a collection of what the connections left (the heap reading forces it now): and the heap once they
  // are gone shows whether a closed connection leaves anything behind.
  await new Promise((resolve) => setTimeout(resolve, 15000));
  if (measureHeap) await measureHeap('closed');
  const heapBytesPerConnection = heap.before != null && heap.connected != null ? (heap.connected - heap.before) / w0.connections : null;
  return [{
    workload: 'W0', system: systemKey, name: `${w0.connections} idle`, connections: w0.connections,
    rssBeforeMiB: before.serverRss / 2 ** 20, rssAfterMiB: connected.serverRss / 2 ** 20,
    bytesPerConnection: (connected.serverRss - before.serverRss) / w0.connections,
    heapBeforeMiB: heap.before != null ? heap.before / 2 ** 20 : null, heapAfterMiB: heap.connected != null ? heap.connected / 2 ** 20 : null,
    heapClosedMiB: heap.closed != null ? heap.closed / 2 ** 20 : null,
    heapBytesPerConnection,
  }];
}

async function sumOrNull(promises) {
  const values = await Promise.all(promises);
  return values.some((v) => v == null) ? null : values.reduce((a, b) => a + b, 0);
}

async function runW6(system, sink, w6, redis) {
  const rows = [];
  for (const rate of w6.messageRates) {
    const lag = [];
    let sampler = null;
    // The warm-up (or the step before) may have left a backlog: each step starts with the worker caught up.
    const waited = await waitForWorker(redis.url, 120);
    log(`  worker caught up after ${waited.toFixed(0)} s`);
    const [row] = await runChatWorkload('W6', 'ours-worker', system, sink, {
      clients: w6.clients, roomSize: w6.roomSize, steps: [{ name: `${rate} msg/s`, totalRate: rate, warmup: 2, duration: w6.seconds }],
      onMark: async (name) => {
        if (name.startsWith('start')) sampler = sampleWorkerLag(redis.url, lag);
        if (name.startsWith('end')) await sampler?.stop();
      },
    });
    lag.sort((a, b) => a - b);
    const at = (p) => (lag.length ? lag[Math.min(lag.length - 1, Math.floor((p / 100) * lag.length))] : null);
    rows.push({ ...row, workerLagMillis: { 50: at(50), 99: at(99), max: lag.at(-1) ?? null }, lagSamples: lag.length, catchUpSeconds: waited });
  }
  return rows;
}

// W0 right after the warm-up: a server keeps (and RSS counts) memory it grew under earlier load, and idle
// connections fill it before RSS grows, so W0 after W4, W1 and the knee ramp read less per connection the further a
// system's ramp had gone (ours 12.4 KB of RSS per connection with 23.2 KB of managed heap in the December compare).
const idleFirst = (workloads) => (workloads.includes('W0') && workloads[0] === 'warm'
  ? ['warm', 'W0', ...workloads.filter((w) => w !== 'warm' && w !== 'W0')] : workloads);

/**
 * What each system runs in a profile, in order, as [system, workloads, repeat]; 'warm' is the unmeasured warm-up
 * (profile.warmupSeconds).
 */
function plan(name) {
  if (name === 'smoke') return [['peer-on', ['W1', 'W1-official']], ['ours-on', ['W1', 'W1-official']], ['websocket', ['W1']]];
  if (name === 'compare' || name === 'lead' || name === 'warmup' || name === 'memory') {
    // Interleaved, every other repeat in reverse (A B C D, D C B A, A B C D): a slow minute of the machine lands on
    // every system, not on one, and no system always runs first or last. In a fixed order, ours against itself
    // (BENCH_LEAD naming a setting the harness already gives) read 7% more CPU per delivery in second place in every
    // pair (bench/findings.md).
    const systems = name === 'compare' ? [...Object.keys(COMPARED), ...(LEAD_TEXT ? ['ours-lead'] : [])]
      : name === 'memory' ? MEMORY_COMPARED : ['ours-on', ...(LEAD_TEXT ? ['ours-lead'] : [])];
    const runs = [];
    for (let repeat = 1; repeat <= profile.repeats; repeat++) {
      const order = repeat % 2 === 0 ? [...systems].reverse() : systems;
      for (const system of order) runs.push([system, idleFirst(CHOSEN_WORKLOADS ?? profile.workloads ?? ['warm', 'W0', 'W4', 'W1', 'W2']), repeat]);
    }
    return runs;
  }
  if (name === 'quick') {
    // The headline's shape in under 5 minutes: both sides on and off, two replicas, the worker.
    return [
      ['peer-on', ['warm', 'W0', 'W4', 'W1', 'W2']],
      ['peer-off', ['warm', 'W4']],
      ['ours-on', ['warm', 'W0', 'W4', 'W1', 'W2']],
      ['ours-off', ['warm', 'W4']],
      ['ours-2-on', ['warm', 'W1']],
      ['ours-worker', ['warm', 'W6']],
    ];
  }
  return [
    ['peer-on', ['warm', 'W0', 'W4', 'W1', 'W3', 'W2']],
    ['peer-off', ['warm', 'W4', 'W1', 'W2']],
    ['ours-on', ['warm', 'W0', 'W4', 'W1', 'W3', 'W2']],
    ['ours-off', ['warm', 'W4']],
    ['ours-metrics', ['warm', 'W4']],
    ['ours-traces10', ['warm', 'W4']],
    ['plain', ['warm', 'W0', 'W4', 'W1']],
    ['plain-redis', ['warm', 'W4', 'W1', 'W2']],
    ['peer-2-on', ['warm', 'W1', 'W2']],
    ['ours-2-on', ['warm', 'W1', 'W2']],
    ['ours-worker', ['warm', 'W6']],
  ];
}

async function measureSystem(systemKey, workloads, sink, repeat) {
  const definition = SYSTEMS[systemKey];
  log(`${definition.label}${repeat ? ` (repeat ${repeat} of ${profile.repeats})` : ''}: starting`);
  const system = await definition.start(sink);
  const rows = [];
  const warmup = profileName === 'smoke' ? 1 : 3;
  try {
    for (const workload of workloads) {
      log(`${definition.label}: ${workload}`);
      const w1 = profile.w1;
      const fixedRate = (w) => [{ name: `${w.clients * w.ratePerClient * w.roomSize}/s`, ratePerClient: w.ratePerClient, warmup, duration: w.seconds }];
      if (workload === 'warm') {
        await runChatWorkload('warm', systemKey, system, sink, {
          clients: w1.clients, roomSize: w1.roomSize,
          steps: [{ name: 'warm-up', ratePerClient: w1.ratePerClient / 2, warmup: profile.warmupSeconds[definition.runtime], duration: 1 }],
        });
      }
      if (workload === 'WU') {
        // Time to warm: W1's load from the first second after start-up, in windows (no warm-up before it).
        const wu = profile.wu;
        rows.push(...await runChatWorkload('WU', systemKey, system, sink, {
          clients: wu.clients, roomSize: wu.roomSize, steps: [{ name: 'from start', ratePerClient: wu.ratePerClient, warmup: 0, duration: wu.seconds, window: wu.window }],
        }));
      }
      if (workload === 'W1') rows.push(...await runChatWorkload('W1', systemKey, system, sink, { clients: w1.clients, roomSize: w1.roomSize, steps: fixedRate(w1) }));
      if (workload === 'W4') rows.push(...await runChatWorkload('W4', systemKey, system, sink, { clients: profile.w4.clients, roomSize: profile.w4.roomSize, steps: fixedRate(profile.w4) }));
      if (workload === 'W1-official') rows.push(...await runChatWorkload('W1-official', systemKey, system, sink, { kind: 'official', clients: w1.clients, roomSize: w1.roomSize, steps: fixedRate(w1) }));
      if (workload === 'W2') rows.push(...await runW2(systemKey, system, sink, profile.w2));
      if (workload === 'W3') {
        const w3 = profile.w3;
        rows.push(...await runChatWorkload('W3', systemKey, system, sink, {
          clients: w3.clients, roomSize: w3.clients, steps: [{ name: `1 room of ${w3.clients}`, totalRate: w3.totalRate, warmup, duration: w3.seconds }],
        }));
      }
      if (workload === 'W0') rows.push(...await runW0(systemKey, system, sink, profile.w0));
      if (workload === 'W6') rows.push(...await runW6(system, sink, profile.w6, system.redis));
    }
  } finally {
    await stopSystem(system);
  }
  return rows.map((row) => ({ label: definition.label, ...row, ...(repeat ? { repeat } : {}) }));
}

async function main() {
  const machine = `${os.hostname().split('.')[0]}`;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const sink = await startSink(0);
  const started = Date.now();
  const results = {
    profile: profileName, date: stamp, machine, cpu, cores: os.cpus().length, node: process.version,
    dotnet: execFileSync('dotnet', ['--version']).toString().trim(), configuration, rows: [],
  };
  try {
    for (const [systemKey, workloads, repeat] of plan(profileName)) {
      results.rows.push(...await measureSystem(systemKey, workloads, sink, repeat));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await sink.close();
  }
  results.minutes = (Date.now() - started) / 60000;
  if (profileName === 'warmup') Object.assign(results, warmupHeadline(results.rows), LEAD_TEXT ? { lead: LEAD_TEXT } : {});
  if (['compare', 'lead', 'memory'].includes(profileName)) Object.assign(results, compareHeadline(results.rows), LEAD_TEXT ? { lead: LEAD_TEXT } : {},
    WORKLOADS_ASKED ? { workloads: WORKLOADS_ASKED } : {});
  fs.mkdirSync(outputDirectory, { recursive: true });
  // A lead's run is named after it, so the runs of one day do not overwrite each other.
  const leadName = LEAD_PROFILE && LEAD_TEXT ? `-${LEAD_TEXT.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60)}` : '';
  // A compare of chosen workloads is named after them: its headline lacks the others' figures.
  const workloadsName = profileName === 'compare' && WORKLOADS_ASKED ? `-${WORKLOADS_ASKED.join('-')}` : '';
  const named = path.join(outputDirectory, `${stamp}-${machine}${profileName === 'full' ? '' : `-${profileName}`}${workloadsName}${leadName}`);
  // Another run of the same day, profile and lead gets -2, -3, …: a result on record is never overwritten. Smoke and
  // quick runs are scratch (not kept in git), and the last one replaces the one before.
  let base = named;
  const scratch = ['smoke', 'quick'].includes(profileName);
  for (let n = 2; !scratch && (fs.existsSync(`${base}.json`) || fs.existsSync(`${base}.md`)); n++) base = `${named}-${n}`;
  fs.writeFileSync(`${base}.json`, JSON.stringify(results, null, 2));
  if (profileName === 'smoke') return smokeVerdict(results);
  const files = await writeReport(results, base);
  log(`report: ${files.join(', ')} (${results.minutes.toFixed(1)} min)`);
  return 0;
}

function smokeVerdict(results) {
  let failures = 0;
  for (const row of results.rows) {
    const ok = row.sent > 0 && row.lost === 0 && row.duplicated === 0 && row.failed === 0 && row.acked === row.sent;
    if (!ok) failures++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${row.system} ${row.workload}: sent ${row.sent}, acked ${row.acked}, delivered ${row.delivered}/${row.expected}, lost ${row.lost}, duplicated ${row.duplicated}${row.failure ? `, first error: ${row.failure}` : ''}`);
  }
  console.log(failures === 0 ? 'smoke: every message delivered' : `smoke: ${failures} run(s) lost or failed messages`);
  return failures === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`interrupted (${signal}): stopping the servers`);
    killAll();
    process.exit(130);
  });
}

main().then((code) => process.exit(code), (error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
