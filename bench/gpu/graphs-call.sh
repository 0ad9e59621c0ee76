#!/usr/bin/env bash
# Issue 8's CUDA-graph micro-steps on the GPU host, from the root of the checkout that travelled
# with .gpu/ carried (bench/gpu/stage-durability.sh fills it) and the real SmolLM2 GGUF in
# /tmp/smol (carried in two pieces by earlier calls on the same warm machine):
#   bash .gpu/bench/graphs-call.sh "build check faq durability soak bench"
# Phases (in this order, each bounded):
#   build       the native library (ABI 6: graph capture/replay entry points)
#   check       FastPathCheck --only-graphs on the SmolLM2-135M shape (random weights): graph replay
#               vs the same bucketed step eagerly (bit-identical) vs the plain step, dropout 0/0.05
#   faq         real SmolLM2 on the sample FAQ, 1 epoch batch 1, no checkpointing: graphs, eager
#               (--no-cuda-graphs), plain DJL ops; the seed's recipe beside them (smollm2-faq.sh)
#   durability  GpuDurabilityCheck a (train + eval) and b (kill -9 + resume: byte-identical
#               adapter), which now train through the graphs
#   hang        GpuDurabilityCheck e: a hung CUDA call (spinning kernel) under the stall watchdog
#   soak        GpuDurabilityCheck d: 20 runs in one JVM with the library (torch allocated bytes)
#   bench       QloraBench smollm2 row (batch 1 x seq 64): checkpointing (no graphs), and without
#               checkpointing with and without graphs
# Everything goes to $OUT/logs.tgz (what comes back is at most 8 files).
set -uo pipefail
phases=${1:-"build check faq durability"}
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
gguf=${LORAFLOW_GGUF:-/tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf}
source .gpu/bench/gpu-env.sh || exit 1
nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm --format=csv,noheader
lib=/tmp/native-build/libloraflow_native.so
if [[ $phases == *build* ]] && [ ! -f "$lib" -o "${REBUILD:-0}" = 1 ]; then
  t0=$SECONDS
  bash .gpu/native/build.sh /tmp/native-build .gpu/jre >"$OUT/build.log" 2>&1
  echo "build rc=$? in $((SECONDS - t0)) s"
  tail -3 "$OUT/build.log"
  for f in /tmp/native-build/*.log; do
    echo "--- $f"
    grep -E -i "error|warning: " "$f" | head -20
  done >>"$OUT/build.log"
  grep -E -i -m5 "error" "$OUT/build.log" | cut -c1-300
fi
[ -f "$lib" ] || { echo "no native library: stop"; exit 1; }
export LORAFLOW_NATIVE_LIB=$lib
if [[ $phases == *check* ]]; then
  t0=$SECONDS
  timeout "${CHECK_TIMEOUT:-200}" "$JAVA" -Xmx8g -cp ".gpu/lib/*" io.loraflow.engine.train.bench.FastPathCheck \
    --only-graphs --graph-shape smollm2-135m --steps "${CHECK_STEPS:-30}" >"$OUT/graph-check.log" 2>&1
  echo "check rc=$? in $((SECONDS - t0)) s"
  grep -E '"event":"(compare|verdict|graph_run)"|Exception|CUDA graph|training steps' "$OUT/graph-check.log" |
    sed -E 's/"losses":\[([^]]{0,120})[^]]*\]/"losses":[\1...]/' | cut -c1-330 | head -40
fi
if [[ $phases == *faq* ]] && [ -f "$gguf" ]; then
  timeout "${FAQ_TIMEOUT:-300}" bash .gpu/bench/smollm2-faq.sh "$gguf" "$OUT/faq" \
    "graphs:--no-grad-checkpointing eager:--no-grad-checkpointing,--no-cuda-graphs plain:--no-grad-checkpointing"
  grep -h -E "CUDA graph|training steps" "$OUT"/faq/faq-*.err "$OUT"/faq/faq-*.log 2>/dev/null | sort | uniq -c | head -8 | cut -c1-300
fi
if [[ $phases == *durability* ]] && [ -f "$gguf" ]; then
  OUT=$OUT/durability CHECKS="a b" LORAFLOW_GGUF=$gguf timeout "${DURABILITY_TIMEOUT:-330}" \
    bash .gpu/bench/durability-call.sh >/dev/null 2>&1
  echo "durability rc=$?"
  cut -c1-700 "$OUT/durability/summary.jsonl"
  grep -h -E "CUDA graph|training steps" "$OUT"/durability/*.log | sort | uniq -c | head -5 | cut -c1-300
fi
if [[ $phases == *hang* ]] && [ -f "$gguf" ]; then
  OUT=$OUT/hang CHECKS="e" LORAFLOW_GGUF=$gguf timeout "${HANG_TIMEOUT:-240}" \
    bash .gpu/bench/durability-call.sh >/dev/null 2>&1
  echo "hang rc=$?"
  cut -c1-900 "$OUT/hang/summary.jsonl"
fi
if [[ $phases == *soak* ]] && [ -f "$gguf" ]; then
  OUT=$OUT/soak CHECKS="d" SOAK_SECONDS=${SOAK_SECONDS:-200} LORAFLOW_GGUF=$gguf timeout "${SOAK_TIMEOUT:-300}" \
    bash .gpu/bench/durability-call.sh >/dev/null 2>&1
  echo "soak rc=$?"
  cut -c1-900 "$OUT/soak/summary.jsonl"
fi
if [[ $phases == *bench* ]]; then
  REF=0 ROW_TIMEOUT=120 VARIANTS="graphs:--no-grad-checkpointing nographs:--no-grad-checkpointing,--no-cuda-graphs" \
    BENCH_DIR=.gpu/bench bash .gpu/bench/fastpath-bench.sh "$OUT/bench" smollm2
fi
# what comes back: at most 8 files, so every log travels in one archive
(cd "$OUT" && tar czf /tmp/graphs-logs.tgz --exclude=logs.tgz . && mv /tmp/graphs-logs.tgz logs.tgz &&
  find . -mindepth 1 ! -name logs.tgz -delete)
ls -la "$OUT"
