#!/usr/bin/env bash
# The chaos soak of issue 9 (io.loraflow.gpu.ChaosSoak): a twin run, then LORAFLOW_SOAK_RUNS runs of
# the real pipeline (tiny random Llama, builtin FAQ, CPU, fp32, fixed seed) while the CPU and GPU
# workers (each its own JVM) are killed with SIGKILL LORAFLOW_SOAK_KILLS times at seeded random
# moments inside seeded random activities; every run must complete with the twin's adapter bytes,
# every step in MLflow, the twin's objects in MinIO and no GPU scratch left.
#
#   LORAFLOW_SOAK_RUNS=20 LORAFLOW_SOAK_KILLS=100 [LORAFLOW_SOAK_SEED=n] bench/chaos/soak.sh [OUT.log]
#
# Uses the running stack of this checkout (./loraflow stack up with your ports exported). The
# classes are built once and copied to a snapshot, so editing and rebuilding the checkout while a
# soak runs (it takes an hour at 100 kills) does not change the workers it starts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${LORAFLOW_STATE_DIR:-$ROOT/.state}"
OUT="${1:-$STATE_DIR/soak-$(date -u +%Y%m%dT%H%M%SZ).log}"
SNAP="$STATE_DIR/soak-snapshot-$$"
mkdir -p "$SNAP/classes"
"$ROOT/deploy/local/stack.sh" status >/dev/null || { echo "soak: the stack is not up (./loraflow stack up)" >&2; exit 1; }

(cd "$ROOT" && mvn -B -q -pl worker-gpu -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$SNAP/deps.txt" -Dspotless.check.skip=true) >&2
# the reactor's own modules: copied (their target/ dirs change with the next build); jars stay
cp_entries=()
i=0
for e in $(tr ':' '\n' < "$SNAP/deps.txt" | awk '!seen[$0]++'); do
  if [[ "$e" == "$ROOT"/* ]]; then
    i=$((i + 1))
    cp -r "$e" "$SNAP/classes/$i"
    cp_entries+=("$SNAP/classes/$i")
  else
    cp_entries+=("$e")
  fi
done
for d in classes test-classes; do
  i=$((i + 1))
  cp -r "$ROOT/worker-gpu/target/$d" "$SNAP/classes/$i"
  cp_entries=("$SNAP/classes/$i" "${cp_entries[@]}")
done
CP="$(IFS=:; echo "${cp_entries[*]}")"

export LORAFLOW_STATE_DIR="$STATE_DIR" LORAFLOW_HOME="$ROOT"
export LORAFLOW_CACHE="${LORAFLOW_CACHE_DIR:-${LORAFLOW_CACHE:-$HOME/.cache/loraflow}}"
export LORAFLOW_MODELS_DIR="${LORAFLOW_MODELS_DIR:-$LORAFLOW_CACHE/models}"
export MKL_CBWR="${MKL_CBWR:-AUTO,STRICT}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" # bit-reproducible CPU numerics across JVMs
echo "soak: log $OUT (snapshot $SNAP)" >&2
java -Xmx1g -cp "$CP" io.loraflow.gpu.ChaosSoak "$SNAP/run" 2>&1 | tee "$OUT" | grep --line-buffered '^\[soak\]'
