#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need, builds, runs every test, checks that no
# process was left behind, and ends with the plain line "N passed, N failed".
# --fast runs only the fast tier (Tests/Fast: unit tests and the gateway in-process), which needs only redis-server
# (and Node.js, as every build does: the /js page's script is built from clients/js).
set -uo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh

fast=false
[ "${1:-}" = "--fast" ] && fast=true

require_dotnet
require_node
if $fast; then
  install_packages redis-server
  filter=(--filter-namespace "RealtimeDemo.Tests.Fast*")
else
  install_packages redis-server chromium fonts-liberation
  require_kubectl
  say "Installing the benchmark harness's npm packages (its smoke run is a test)"
  (cd bench/node && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in bench/node failed."
  filter=()
fi

say "Installing the JavaScript client's npm packages, checking its types and building the /js page's script"
(cd clients/js && npm ci --no-audit --no-fund --loglevel=error && npm run --silent typecheck && npm run --silent build:page -- --log-level=warning) \
  || fail "the JavaScript client (clients/js) did not install, type-check or build."

say "Building"
dotnet build RealtimeDemo.sln -nologo -v quiet -clp:ErrorsOnly || fail "the build failed."

# Processes the tests start; anything of these alive after the run (and not before it) leaked.
pattern='redis-server|RealtimeGateway|ChatWorker|WebFrontend|PlainSignalR|PlainWebSocket|peer-server.js|/dcp |dcpctrl'
before=$(pgrep -f "$pattern" | sort)

results=artifacts/test-results
rm -rf "$results"
say "Running the tests (each named as it finishes, with its time)"
# A line per test, not the runner's progress bar: this output is often a log file, and 30 silent minutes read as a hang.
dotnet test --solution RealtimeDemo.sln --no-build --results-directory "$results" --report-xunit-trx --no-progress --output detailed "${filter[@]}" \
  | grep --line-buffered -v '^  from '
test_exit=${PIPESTATUS[0]}

say "Checking that no test left a process running"
leaked=""
for _ in $(seq 1 45); do   # DCP ends an AppHost's children within 10-40 s of its stop
  leaked=$(comm -13 <(echo "$before") <(pgrep -f "$pattern" | sort) | tr '\n' ' ')
  [ -z "${leaked// }" ] && break
  sleep 1
done

passed=0; failed=0; failed_tests=""
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  failed_tests+="$(grep -o '<UnitTestResult [^>]*outcome="Failed"' "$trx" | sed -n 's/.* testName="\([^"]*\)".*/Failed: \1/p')"$'\n'
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  passed=$((passed + $(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')))
  failed=$((failed + $(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')))
done
[ "$passed$failed" = "00" ] && [ $test_exit -ne 0 ] && failed=1   # the run itself failed before reporting

if [ -n "${leaked// }" ]; then
  echo "Left running after the tests (now killed):"; ps -o pid,args -p ${leaked} | cut -c1-160
  kill -9 $leaked 2>/dev/null
  failed=$((failed + 1))
else
  passed=$((passed + 1))   # the leak check counts as one check
fi

# The runner names failed tests at the top of a long output; name them again here, next to the verdict, each with
# the start of its failure message (all of it is in the .trx and, for the services, artifacts/test-logs).
printf '%s' "$failed_tests" | grep .
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  perl -0777 -ne 'while (/<UnitTestResult [^>]*testName="([^"]*)"[^>]*outcome="Failed"(?:(?!<\/UnitTestResult>).)*?<Message>(.*?)<\/Message>/sg) {
    my ($name, $message) = ($1, $2);
    $message =~ s/&lt;/</g; $message =~ s/&gt;/>/g; $message =~ s/&quot;/"/g; $message =~ s/&apos;/\x27/g; $message =~ s/&#xD;//g; $message =~ s/&#xA;/\n/g; $message =~ s/&amp;/&/g;
    my @lines = split /\n/, $message;
    print "--- $name:\n", join("\n", map { substr($_, 0, 300) } @lines[0 .. ($#lines < 39 ? $#lines : 39)]), "\n";
  }' "$trx"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
