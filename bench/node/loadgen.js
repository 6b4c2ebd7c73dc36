'use strict';
// The load generator, forked by run.js: connects clients, joins rooms, sends at the asked rate with the send
// time inside each message, and records every delivery's latency in an HDR histogram. It asks the
// orchestrator to sample the server (CPU, RSS) at the start and end of each measured step.
const hdr = require('hdr-histogram-js');
const { createClient } = require('./lib/clients');
const { mintToken } = require('./lib/tokens');

const PERCENTILES = [50, 90, 99, 99.9];
const CDF_POINTS = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

let markReply = null;
// The orchestrator went away (interrupted): stop loading the server.
process.on('disconnect', () => process.exit(1));
process.on('message', (message) => {
  if (message.type === 'run') run(message.config).then(
    (result) => process.send({ type: 'result', result }, () => process.exit(0)),
    (error) => process.send({ type: 'error', message: error.stack || String(error) }, () => process.exit(1)));
  if (message.type === 'marked') markReply?.();
});

const progress = (text) => process.send({ type: 'progress', text });
const mark = (name) => new Promise((resolve) => { markReply = resolve; process.send({ type: 'mark', name }); });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function inBatches(count, concurrency, action) {
  let next = 0;
  const errors = [];
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++;
      try { await action(index); } catch (error) { errors.push(error); }
    }
  }));
  return errors;
}

async function connectAll(config, onMessage) {
  const clients = [];
  const errors = await inBatches(config.clients, config.connectConcurrency || 50, async (index) => {
    const user = `${config.userPrefix}${index}`;
    const client = createClient({
      protocol: config.protocol,
      kind: config.kind,
      baseUrl: config.baseUrls[index % config.baseUrls.length],
      user,
      token: config.signingKey ? mintToken(user, config.signingKey) : user,
      onMessage,
    });
    await client.connect();
    clients[index] = client;
    if (index > 0 && index % 1000 === 0) progress(`${index} connected`);
  });
  if (errors.length) throw new Error(`${errors.length} of ${config.clients} clients could not connect; first: ${errors[0].message}`);
  return clients;
}

async function run(config) {
  return config.mode === 'idle' ? runIdle(config) : runChat(config);
}

async function runIdle(config) {
  await mark('before');
  const clients = await connectAll(config, () => {});
  await sleep((config.settle || 5) * 1000);
  await mark('connected');
  for (const client of clients) client.close();
  return { connections: clients.length };
}

async function runChat(config) {
  const roomSize = config.roomSize;
  const roomOf = (index) => `${config.roomPrefix}${Math.floor(index / roomSize)}`;
  let step = null; // the step being measured: deliveries of its messages are recorded

  const onMessage = (text) => {
    const now = performance.now();
    // text = b|<step>|<sent ms>|<client>|<seq>|padding
    const parts = text.split('|', 5);
    if (step === null || parts[1] !== step.tag) return;
    const micros = Math.max(1, Math.round((now - Number(parts[2])) * 1000));
    step.latency.recordValue(micros);
    if (step.window) { step.window.latency.recordValue(micros); step.window.delivered++; }
    const counts = step.deliveries[Number(parts[3])];
    const seq = Number(parts[4]);
    counts[seq] = (counts[seq] || 0) + 1;
    step.delivered++;
  };

  const clients = await connectAll(config, onMessage);
  progress(`${clients.length} clients connected`);
  const joinErrors = await inBatches(clients.length, 50, (index) => clients[index].join(roomOf(index)));
  if (joinErrors.length) throw new Error(`${joinErrors.length} joins failed; first: ${joinErrors[0].message}`);
  const members = (index) => Math.min(roomSize, clients.length - Math.floor(index / roomSize) * roomSize);
  await sleep(500);

  const padding = 'x'.repeat(Math.max(0, (config.textBytes || 64) - 32));
  const sequences = new Array(clients.length).fill(0);
  const results = [];

  for (const [stepIndex, definition] of config.steps.entries()) {
    const totalRate = definition.totalRate ?? definition.ratePerClient * clients.length;
    const current = {
      tag: String(stepIndex),
      latency: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 }),
      ackLatency: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 }),
      deliveries: clients.map(() => []),
      delivered: 0, expected: 0, sent: 0, acked: 0, failed: 0, failure: null,
      // definition.window (seconds): the measured time is also cut into windows, each with its own deliveries and
      // latency (by arrival), and a server sample at each edge: how the server warms up, window by window.
      window: null, windows: [],
    };
    const newWindow = () => ({ startedAt: performance.now(), delivered: 0, sent: 0, latency: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 }) });
    let cursor = 0;
    let measuring = false;
    let sentInPhase = 0;
    let phaseStart = performance.now();
    let outstanding = 0;

    const sendOne = () => {
      const index = cursor;
      cursor = (cursor + 1) % clients.length;
      const seq = sequences[index]++;
      const sentAt = performance.now();
      const tag = measuring ? current.tag : 'w';
      const text = `b|${tag}|${sentAt.toFixed(3)}|${index}|${seq}|${padding}`;
      if (measuring) { current.sent++; current.expected += members(index); if (current.window) current.window.sent++; }
      outstanding++;
      clients[index].send(roomOf(index), `${config.userPrefix}${index}-${seq}`, text).then(() => {
        outstanding--;
        if (tag === current.tag) { current.acked++; current.ackLatency.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000))); }
      }, (error) => {
        outstanding--;
        if (tag === current.tag) { current.failed++; current.failure ??= error.message; }
      });
    };

    const pump = async (seconds, onTick) => {
      sentInPhase = 0;
      phaseStart = performance.now();
      const end = phaseStart + seconds * 1000;
      while (performance.now() < end) {
        const due = Math.floor(((performance.now() - phaseStart) / 1000) * totalRate) - sentInPhase;
        for (let i = 0; i < due; i++) sendOne();
        sentInPhase += Math.max(0, due);
        await onTick?.();
        await sleep(2);
      }
    };

    // Closes the current window at each edge (the orchestrator samples the server there) and opens the next.
    let nextEdge = Infinity;
    const windowTick = async () => {
      if (performance.now() < nextEdge) return;
      nextEdge += definition.window * 1000;
      const closing = current.window;
      current.window = newWindow();
      current.windows.push({ delivered: closing.delivered, sent: closing.sent, latencyMicros: Object.fromEntries(PERCENTILES.map((p) => [p, closing.latency.getValueAtPercentile(p)])) });
      await mark(`window:${stepIndex}:${current.windows.length - 1}`);
    };

    progress(`step ${definition.name}: ${totalRate} messages/s, warm-up ${definition.warmup} s`);
    await pump(definition.warmup);
    step = current;
    measuring = true;
    await mark(`start:${stepIndex}`);
    const measureStart = performance.now();
    if (definition.window) { current.window = newWindow(); nextEdge = measureStart + definition.window * 1000; }
    await pump(definition.duration, definition.window ? windowTick : undefined);
    // The last window ends with the sending, unless the last edge just closed it.
    if (definition.window && performance.now() - current.window.startedAt >= 1000) { nextEdge = 0; await windowTick(); }
    current.window = null;
    measuring = false;
    const sendSeconds = (performance.now() - measureStart) / 1000;
    const drainUntil = performance.now() + (config.drain || 5) * 1000;
    while ((current.delivered < current.expected || outstanding > 0) && performance.now() < drainUntil) await sleep(20);
    await mark(`end:${stepIndex}`);
    step = null;

    let duplicated = 0;
    current.deliveries.forEach((counts, index) => {
      for (const count of counts) if (count !== undefined) duplicated += Math.max(0, count - members(index));
    });
    const lost = Math.max(0, current.expected - (current.delivered - duplicated));

    results.push({
      name: definition.name,
      targetRate: totalRate,
      sendSeconds,
      sent: current.sent,
      acked: current.acked,
      failed: current.failed,
      failure: current.failure,
      expected: current.expected,
      delivered: current.delivered,
      lost,
      duplicated,
      deliveriesPerSecond: current.delivered / sendSeconds,
      latencyMicros: Object.fromEntries(PERCENTILES.map((p) => [p, current.latency.getValueAtPercentile(p)])),
      ackLatencyMicros: Object.fromEntries(PERCENTILES.map((p) => [p, current.ackLatency.getValueAtPercentile(p)])),
      latencyCdf: CDF_POINTS.map((p) => [p, current.latency.getValueAtPercentile(p)]),
      ...(definition.window ? { windowSeconds: definition.window, windows: current.windows } : {}),
    });
    progress(`step ${definition.name}: delivered ${current.delivered}/${current.expected}, p99 ${(current.latency.getValueAtPercentile(99) / 1000).toFixed(2)} ms`);
  }

  for (const client of clients) client.close();
  return { clients: clients.length, steps: results };
}
