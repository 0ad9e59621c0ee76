#!/usr/bin/env bash
# Starts the REST API from this checkout's build on loopback for the bench scripts, with a fresh key
# file, and prints "KEY=<admin key>" once the server answers. Stop it with: kill "$(cat $STATE/bench-api.pid)".
# Needs the local stack up (./loraflow stack up) and `mvn -pl api -am package -DskipTests` done.
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE="${LORAFLOW_STATE_DIR:-$PWD/.state}"
set -a; . "$STATE/stack.env"; set +a
export BENCH_KEY_FILE="$STATE/bench-api-keys.json" BENCH_LOG="$STATE/logs/bench-api.log"
mkdir -p "$STATE/logs"
rm -f "$BENCH_KEY_FILE"
CP_FILE="$STATE/bench-api.classpath"
mvn -q -pl api -am compile dependency:build-classpath -Dspotless.check.skip=true -Dmdep.outputFile="$CP_FILE" >/dev/null
CP="api/target/classes:$(cat "$CP_FILE")"
run() { java -cp "$CP" io.loraflow.api.LoraflowApplication "$@"; }
KEY=$(run keys --file "$BENCH_KEY_FILE" add --id "${BENCH_KEY_ID:-bench}" --scope "${BENCH_SCOPE:-admin}" 2>/dev/null | grep "^lfk_" | tail -1)
java -cp "$CP" io.loraflow.api.LoraflowApplication server bench/api/server.yml >"$STATE/logs/bench-api.out" 2>&1 &
echo $! >"$STATE/bench-api.pid"
for _ in $(seq 1 120); do
  if curl -fs "http://127.0.0.1:${BENCH_API_PORT:-18320}/v1/openapi.json" >/dev/null; then
    echo "KEY=$KEY"
    exit 0
  fi
  sleep 0.5
done
echo "the API did not come up; see $STATE/logs/bench-api.out" >&2
exit 1
