'use strict';
// Worker lag as the issue defines it: the age of the oldest room message the worker group has not finished
// (pending, or not yet read), sampled from Redis every 100 ms. Stream ids carry Redis's clock in ms.
const { createClient } = require('redis');

const STREAM = 'chat:messages';
const GROUP = 'chat-worker';
const idMillis = (id) => Number(String(id).split('-')[0]);

async function readLag(client) {
  const time = (await client.time()).getTime();
  const pending = await client.sendCommand(['XPENDING', STREAM, GROUP]);
  const groups = await client.sendCommand(['XINFO', 'GROUPS', STREAM]);
  const group = groups.map((fields) => Object.fromEntries(fields.reduce((pairs, value, i) => (i % 2 ? pairs : [...pairs, [value, fields[i + 1]]]), [])))
    .find((g) => g.name === GROUP);
  let oldest = pending?.[1] ? idMillis(pending[1]) : null;
  if (group && Number(group.lag ?? 0) > 0) {
    const [next] = await client.sendCommand(['XRANGE', STREAM, `(${group['last-delivered-id']}`, '+', 'COUNT', '1']);
    if (next) oldest = oldest === null ? idMillis(next[0]) : Math.min(oldest, idMillis(next[0]));
  }
  return oldest === null ? 0 : Math.max(0, time - oldest);
}

/** Waits until the worker has caught up (lag under 1 s) so a step starts from an empty backlog; returns the seconds waited. */
async function waitForWorker(redisUrl, timeoutSeconds) {
  const client = createClient({ url: redisUrl });
  await client.connect();
  const started = Date.now();
  try {
    while (Date.now() - started < timeoutSeconds * 1000) {
      if (await readLag(client) < 1000) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await client.quit().catch(() => {});
  }
  return (Date.now() - started) / 1000;
}

function sampleWorkerLag(redisUrl, samples) {
  const client = createClient({ url: redisUrl });
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      samples.push(await readLag(client));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return { stop: async () => { running = false; await loop.catch(() => {}); await client.quit().catch(() => {}); } };
}

module.exports = { sampleWorkerLag, waitForWorker };
