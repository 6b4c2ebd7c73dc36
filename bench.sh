#!/usr/bin/env bash
# Benchmarks RealtimeGateway against the article's Socket.IO server, side by side in one run:
#   ./bench.sh quick   reduced sizes, a few minutes
#   ./bench.sh full    the issue's workloads, under 30 minutes on 2 cores
#   ./bench.sh compare ours, the peer, plain SignalR with and without Redis, interleaved three times; medians
#                      and spread (about 45 minutes)
#   BENCH_LEAD="Setting=value;…" ./bench.sh lead
#                      ours as it is against ours with those gateway settings, interleaved three times: W4, W1 and
#                      W0 (about 16 minutes); BENCH_OFF (settings for ours), BENCH_BASELINE (a checkout for ours)
#                      and BENCH_WORKLOADS are in bench/README.md; with compare, the lead runs as a fifth system
#                      (BENCH_WORKLOADS=W4,W1 and BENCH_REPEATS=8 with compare: more repeats of the figures in doubt)
#   ./bench.sh warmup  time to warm: a fresh gateway under W1's load from its first seconds, CPU and p99 in 10 s
#                      windows, three repeats (about 7 minutes; with BENCH_LEAD etc. against ours, about 13)
#   ./bench.sh memory  idle memory per connection: ours, the peer, plain SignalR and Kestrel's WebSockets with no
#                      SignalR (the floor), interleaved three times (about 20 minutes)
#   ./bench.sh smoke   a handful of clients on both servers; fails if any message is lost
# Writes bench/results/<date>-<machine>[-profile].{md,csv,json,png}. Needs two cores: servers run on core 0,
# the load generator on core 1.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh

profile="${1:-quick}"
case "$profile" in quick|full|compare|lead|warmup|memory|smoke) ;; *) fail "unknown profile '$profile': use quick, full, compare, lead, warmup, memory or smoke." ;; esac
[ "$(nproc)" -ge 2 ] || fail "the benchmark pins servers and load generator to separate cores and needs 2; this machine has $(nproc)."

require_dotnet
require_node
install_packages redis-server chromium fonts-liberation

say "Installing the harness's npm packages"
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error)

say "Installing dotnet-gcdump (the managed heap of idle connections)"
[ -x .tools/dotnet-gcdump ] || dotnet tool install dotnet-gcdump --version 10.0.750501 --tool-path .tools >/dev/null \
  || fail "dotnet-gcdump did not install."

say "Building the servers (Release)"
for project in RealtimeGateway ChatWorker bench/PlainSignalR bench/PlainWebSocket; do
  dotnet build "$project" -c Release -nologo -v quiet -clp:ErrorsOnly || fail "the Release build of $project failed."
done

say "Running the $profile benchmark"
exec taskset -c 1 node bench/node/run.js "$profile" --configuration Release
