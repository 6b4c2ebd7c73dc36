'use strict';
// Workload sizes per profile. full is the workloads; quick keeps their shape at reduced sizes and
// finishes in a few minutes; smoke checks the harness itself (every message delivered, both servers).

const full = {
  // .NET's tiered JIT (with dynamic PGO) keeps compiling for 60-90 s under load on one core: measured in
  // 10 s windows at 10k deliveries/s, the gateway's CPU fell from 56% to 28% of the core between 20 s and
  // 100 s. Shorter warm-ups measure the JIT, not the server. Warm-up runs at half the W1 rate.
  warmupSeconds: { dotnet: 75, node: 5 },
  w1: { clients: 2000, roomSize: 10, ratePerClient: 1, seconds: 20 },
  // From well below our gateway's knee to well above the peer's: the ramp stops at the first failing step.
  w2: { clients: 2000, roomSize: 10, messageRates: [500, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 10000, 12000, 15000], warmup: 3, seconds: 6 },
  w3: { clients: 1000, totalRate: 20, seconds: 10 },
  // Telemetry matrix and CPU per delivery at a fixed rate every system keeps up with (10k deliveries/s).
  w4: { clients: 2000, roomSize: 10, ratePerClient: 0.5, seconds: 15 },
  w0: { connections: 10000, heap: true },
  w6: { clients: 1000, roomSize: 2, messageRates: [1000, 2000, 5000], seconds: 15 },
};

// The headline workloads of full for ours and the three anchors, interleaved three times (about 45 minutes).
const compare = { ...full, repeats: 3 };

// A lead (BENCH_LEAD) against ours as it is, interleaved three times at full sizes, without the knee ramp: CPU per
// delivery at W4, W1's tail and idle memory in about 16 minutes. The knee needs `compare`.
const lead = { ...full, repeats: 3, workloads: ['warm', 'W0', 'W4', 'W1'] };

// Time to warm: W1's load on a gateway from its first seconds, in 10 s windows, ours (and a lead) interleaved three
// times: about 7 minutes alone, 13 with a lead. WU measures what the 75 s warm-up above hides.
const warmup = { ...full, repeats: 3, workloads: ['WU'], wu: { clients: 2000, roomSize: 10, ratePerClient: 1, seconds: 120, window: 10 } };

// What an idle connection holds: W0 after the usual warm-up, for ours, the peer, the bare hub and Kestrel's
// WebSockets with no SignalR (the floor any .NET WebSocket server starts from), interleaved three times (~20 minutes).
const memory = { ...full, repeats: 3, workloads: ['warm', 'W0'] };

const quick = {
  warmupSeconds: { dotnet: 10, node: 3 },
  w1: { clients: 500, roomSize: 10, ratePerClient: 1, seconds: 6 },
  w2: { clients: 500, roomSize: 10, messageRates: [500, 1500, 3000, 6000], warmup: 2, seconds: 3 },
  w3: { clients: 300, totalRate: 20, seconds: 5 },
  w4: { clients: 500, roomSize: 10, ratePerClient: 0.5, seconds: 5 },
  w0: { connections: 2000, heap: true },
  w6: { clients: 250, roomSize: 2, messageRates: [500], seconds: 5 },
};

const smoke = {
  warmupSeconds: { dotnet: 1, node: 1 },
  w1: { clients: 12, roomSize: 4, ratePerClient: 2, seconds: 2 },
};

module.exports = { full, compare, lead, warmup, memory, quick, smoke };
