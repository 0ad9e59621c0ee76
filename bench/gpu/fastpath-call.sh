#!/usr/bin/env bash
# One GPU call of the fast-path work (issue 8), from the root of the checkout that travelled, with
# .gpu/ carried (jre, lib, djl-jni, site.tar.xz, native/ = worker-gpu/src/main/native, bench/ =
# this folder's scripts + bench/train/qlora_speed.py; bench/gpu/stage-gpu.sh fills it):
#   bash .gpu/bench/fastpath-call.sh "build check bench profile" "falcon-b1 smollm2 ..."
# Phases: build the native library against the host's libtorch; FastPathCheck (fast == plain);
# the bench rows (fastpath-bench.sh); a torch-profiler trace of one fast-path step, summarized.
# Everything goes to $OUT (build.log, check.log, bench.log, results.jsonl, profile.log).
set -uo pipefail
phases=${1:-"build check bench"}
rows=${2:-"falcon-b1"}
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
source .gpu/bench/gpu-env.sh || exit 1
nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm --format=csv,noheader
lib=/tmp/native-build/libloraflow_native.so
if [[ $phases == *build* ]] && [ ! -f "$lib" -o "${REBUILD:-0}" = 1 ]; then
  t0=$SECONDS
  bash .gpu/native/build.sh /tmp/native-build .gpu/jre >"$OUT/build.log" 2>&1
  echo "build rc=$? in $((SECONDS - t0)) s"; tail -3 "$OUT/build.log"
  for f in /tmp/native-build/*.log; do echo "--- $f"; grep -E -i "error|warning: |registers|spill" "$f" | head -20; done >>"$OUT/build.log"
fi
export LORAFLOW_NATIVE_LIB=$lib
if [[ $phases == *check* ]]; then
  t0=$SECONDS
  timeout 240 "$JAVA" -Xmx8g -cp ".gpu/lib/*" io.loraflow.engine.train.bench.FastPathCheck ${CHECK_ARGS:-} >"$OUT/check.log" 2>&1
  echo "check rc=$? in $((SECONDS - t0)) s"
  grep -E '"event":"(compare|verdict|path)"|"ok":false|Exception|Error' "$OUT/check.log" | cut -c1-300 | head -40
fi
if [[ $phases == *bench* ]]; then
  BENCH_DIR=.gpu/bench bash .gpu/bench/fastpath-bench.sh "$OUT" $rows
fi
if [[ $phases == *variants* ]]; then # ours only, with $VARIANTS, on $VARIANT_ROWS
  REF=0 PLAIN=0 PLAIN_ROWS= BENCH_DIR=.gpu/bench bash .gpu/bench/fastpath-bench.sh "$OUT" ${VARIANT_ROWS:-}
fi
if [[ $phases == *profile* ]]; then
  for shape in ${PROFILE_SHAPES:-falcon-7b llama-3-8b}; do
    timeout 150 "$JAVA" -Xmx24g -cp ".gpu/lib/*" io.loraflow.engine.train.bench.QloraBench --device gpu \
      --shape "$shape" --batch 1 --seq "${PROFILE_SEQ:-256}" --steps 3 ${PROFILE_ARGS:-} --profile /tmp/trace-$shape.json >/tmp/prof-$shape.log 2>&1
    echo "== profile $shape rc=$?" >>"$OUT/profile.log"
    grep -E '"event":"(summary|path)"' /tmp/prof-$shape.log >>"$OUT/profile.log"
    python3 .gpu/bench/trace_summary.py /tmp/trace-$shape.json 30 >>"$OUT/profile.log" 2>&1
  done
  head -c 3000 "$OUT/profile.log"
fi
