#!/usr/bin/env bash
# Bounded schemathesis fuzz of the REST API from its served OpenAPI document, loopback only:
#   bench/api/fuzz.sh [max-examples per operation, default 25]
# Starts the API (bench/api/api.sh) with an admin key, runs schemathesis with every check, then
# terminates every FineTune/TryAdapter run and deletes every schedule the fuzz created, and stops the
# API. Report: $STATE/fuzz-report/ (JUnit XML) and the summary on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE="${LORAFLOW_STATE_DIR:-$PWD/.state}"
set -a; . "$STATE/stack.env"; set +a
EXAMPLES="${1:-25}"
ST="$STATE/venvs/fuzz/bin/st"
TEMPORAL="${LORAFLOW_CACHE_DIR:-$HOME/.cache/loraflow}/venvs/temporal/bin/temporal"
PORT="${BENCH_API_PORT:-18320}"
BEFORE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
KEY=$(bench/api/api.sh | sed -n 's/^KEY=//p')
trap 'kill "$(cat "$STATE/bench-api.pid")" 2>/dev/null || true' EXIT
rm -rf "$STATE/fuzz-report"; mkdir -p "$STATE/fuzz-report"
set +e
"$ST" run "http://127.0.0.1:$PORT/v1/openapi.json" \
  --url "http://127.0.0.1:$PORT" \
  --header "Authorization: Bearer $KEY" \
  --checks all \
  --max-examples "$EXAMPLES" \
  --workers 2 \
  --request-timeout 30 \
  --seed 11 \
  --report junit --report-dir "$STATE/fuzz-report" \
  --no-color 2>&1 | tee "$STATE/fuzz-report/stdout.txt"
RC=${PIPESTATUS[0]}
set -e
# clean up what the fuzz created: runs started since $BEFORE, and schedules
"$TEMPORAL" workflow terminate --address "$LORAFLOW_TEMPORAL_TARGET" \
  --query "StartTime >= '$BEFORE' AND ExecutionStatus = 'Running'" --reason "fuzz done" --yes >/dev/null 2>&1 || true
for s in $("$TEMPORAL" schedule list --address "$LORAFLOW_TEMPORAL_TARGET" -o json 2>/dev/null | python3 -c 'import json,sys; [print(x["scheduleId"]) for x in json.load(sys.stdin)]' 2>/dev/null); do
  "$TEMPORAL" schedule delete --address "$LORAFLOW_TEMPORAL_TARGET" --schedule-id "$s" >/dev/null 2>&1 || true
done
echo "schemathesis exit code: $RC"
exit "$RC"
