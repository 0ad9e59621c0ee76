#!/usr/bin/env bash
# A person's path through the command line (issue 11's must-show), on the real SmolLM2 and two
# datasets: from a clean clone, start two runs, follow one, compare them, list adapters, schedule a
# retrain (list, pause, resume, delete it), ask each champion one question with `chat`.
#   bench/cli/person-path.sh OUT_DIR      (own stack on PERSON_PORT_BASE+..., default 74xx)
# Every command's stdout/stderr/exit code lands in OUT_DIR/transcript.txt.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:?usage: person-path.sh OUT_DIR}"
mkdir -p "$OUT"
T="$OUT/transcript.txt"
: > "$T"
cd "$ROOT"
export TEMPORAL_PORT=7450 TEMPORAL_UI_PORT=8450 MINIO_PORT=9450 MINIO_CONSOLE_PORT=9451 MLFLOW_PORT=5450
step() { # step "what a person types"
  echo "\$ $*" | tee -a "$T"
  local t0=$(date +%s)
  eval "$@" >>"$T" 2>&1
  local rc=$?
  echo "[exit $rc, $(( $(date +%s) - t0 )) s]" | tee -a "$T"
  echo >> "$T"
  return 0
}
step ./loraflow stack up
./loraflow stack status >/dev/null 2>&1 || { echo "person-path: the stack is not up (see $T)" >&2; exit 1; }
LORAFLOW_DATASET_ROOTS="$ROOT/bench/data" ./loraflow worker all > "$OUT/workers.log" 2>&1 &
WORKERS=$!
trap 'kill $WORKERS 2>/dev/null; wait $WORKERS 2>/dev/null' EXIT
sleep 20
# the bike FAQ is read through file: from this checkout (the worker allow-lists bench/data)
sed "s#file:[^\"]*bikeshop-faq.json#file:$ROOT/bench/data/bikeshop-faq.json#" bench/data/person-bikeshop.json > "$OUT/person-bikeshop.json"
step ./loraflow run "$OUT/person-bikeshop.json"
step ./loraflow run bench/data/person-ecommerce.json --follow
# the bike run queued behind it (one training per GPU worker): wait for it without following
for _ in $(seq 1 120); do
  ./loraflow status finetune-person-bikeshop 2>/dev/null | head -1 | grep -qE "COMPLETED|FAILED|CANCEL|TERMINATED" && break
  sleep 10
done
step ./loraflow status finetune-person-bikeshop
step ./loraflow list
step ./loraflow compare finetune-person-ecommerce finetune-person-bikeshop
step ./loraflow adapters
BIKE=$(./loraflow adapters 2>/dev/null | grep -o 'loraflow-smollm2-135m-instruct-bikeshop[a-z0-9-]*' | head -1)
SHOP=loraflow-smollm2-135m-instruct-ecommerce-faq
step ./loraflow retrain --from-version "$BIKE@champion" --set training.epochs=2 --cron '"0 3 * * MON"' --schedule-id retrain-bikeshop-weekly --no-run-now
step ./loraflow schedules list
step ./loraflow schedules pause retrain-bikeshop-weekly
step ./loraflow schedules list
step ./loraflow schedules resume retrain-bikeshop-weekly
step ./loraflow chat --adapter "$BIKE@champion" --prompt '"How much is an e-bike per day?"' --max-new-tokens 48
step ./loraflow chat --adapter "$SHOP@champion" --prompt '"How much does shipping cost?"' --max-new-tokens 48
step ./loraflow schedules delete retrain-bikeshop-weekly
step ./loraflow schedules list
