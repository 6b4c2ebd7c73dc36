'use strict';
// Workload sizes per profile. full is the workloads; quick keeps their shape at reduced sizes and
// finishes in a few minutes; smoke checks the harness itself (every message delivered, both servers).

const full = {
  warmupSeconds: { dotnet: 35, node: 5 },
  w1: { clients: 2000, roomSize: 10, ratePerClient: 1, seconds: 20 },
  w2: { clients: 2000, roomSize: 10, messageRates: [2000, 4000, 6000, 8000, 10000, 12000, 15000, 20000], warmup: 3, seconds: 8 },
  w3: { clients: 1000, totalRate: 20, seconds: 15 },
  w0: { connections: 10000 },
  w6: { clients: 1000, roomSize: 2, messageRates: [1000, 2000, 5000], seconds: 15 },
};

const quick = {
  warmupSeconds: { dotnet: 10, node: 3 },
  w1: { clients: 500, roomSize: 10, ratePerClient: 1, seconds: 6 },
  w2: { clients: 500, roomSize: 10, messageRates: [1000, 3000, 6000], warmup: 2, seconds: 4 },
  w3: { clients: 300, totalRate: 20, seconds: 5 },
  w0: { connections: 2000 },
  w6: { clients: 250, roomSize: 2, messageRates: [500], seconds: 5 },
};

const smoke = {
  warmupSeconds: { dotnet: 1, node: 1 },
  w1: { clients: 12, roomSize: 4, ratePerClient: 2, seconds: 2 },
};

module.exports = { full, quick, smoke };
