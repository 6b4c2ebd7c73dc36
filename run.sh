#!/usr/bin/env bash
# Runs RealtimeDemo: the AppHost with Redis, the replicated gateway, the worker and the frontend.
# Extra arguments go to the AppHost, e.g. ./run.sh Gateway:Replicas=5
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh

require_dotnet
if [ -z "${ConnectionStrings__redis:-}" ] && ! container_runtime_running && ! command -v redis-server >/dev/null 2>&1; then
  say "No container runtime and no redis-server: installing redis-server"
  install_packages redis-server
fi

# The /js page's script is built from clients/js before the frontend (which serves what was there when it was built).
# Without Node.js or npm packages the rest still runs, and the page says what is missing.
say "Building the /js page's script (clients/js)"
if ! ( require_node && cd clients/js \
       && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } \
       && npm run --silent build:page -- --log-level=warning ); then
  say "The /js page's script did not build: the chat runs, and the JavaScript page says what is missing."
fi

say "Building"
dotnet build AppHost/AppHost.csproj -nologo -v quiet -clp:ErrorsOnly

say "Starting the AppHost (Ctrl+C stops everything)"
dotnet run --project AppHost --no-build --launch-profile http -- "$@" &
apphost=$!
trap 'kill -TERM $apphost 2>/dev/null; wait $apphost 2>/dev/null; exit 0' INT TERM

# The frontend's port is fixed by its launch profile; announce it once everything behind it is up.
for _ in $(seq 1 180); do
  kill -0 $apphost 2>/dev/null || { wait $apphost; exit $?; }
  if curl -fs -o /dev/null http://localhost:5300/health 2>/dev/null; then
    say "Ready. Chat: http://localhost:5300   Dashboard: the login URL printed above (http://localhost:15080)"
    break
  fi
  sleep 1
done
wait $apphost
