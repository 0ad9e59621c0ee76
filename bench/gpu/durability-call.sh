#!/usr/bin/env bash
# Issue 9's GPU-side checks in one device call, from the root of the checkout that travelled with
# .gpu/ (bench/gpu/stage-durability.sh fills it: jre.tar.xz, lean jars with the tokenizer, djl-jni,
# device-setup.sh, native sources). The GPU worker's own cores (EngineSession + OutOfMemory.withFallback +
# Trainer checkpoints/resume, EvalActivity.evaluate) run in io.loraflow.gpu.GpuDurabilityCheck on
# the real SmolLM2-135M-Instruct GGUF and the sample FAQ:
#   a. train (checkpoints, held-out evals) then evaluate base vs adapter, one answer shown
#   b. the same training kill -9'd after a checkpoint, restarted: resumes from the newest one,
#      every later step once, the loss curve and the best-checkpoint state of (a)
#   c. a real CUDA out-of-memory (a ballast tensor leaves little free memory): the fallback halves
#      the micro-batch until a step fits; in a second process micro-batch 1 fails with one
#      non-retryable message
#   d. 20 short runs in a row in one JVM: device memory, torch allocated, heap, RSS back to start
#   e. (GPU, not in the default CHECKS) a hung CUDA call: a spinning kernel after step 12; the stall
#      watchdog (floor 5 s) must report it in its window, the attempt end with the interrupt once
#      the call returns, and a retry resume from the last checkpoint
# Each sub-check prints one JSON line {"check":...,"pass":...}; all go to $OUT/summary.jsonl, the
# full logs to $OUT/*.log.
#   GPU (integrator):  bash bench/gpu/durability-call.sh
#   CPU (here):        LORAFLOW_DEVICE=cpu SCALE=small bash bench/gpu/durability-call.sh
# Settings: LORAFLOW_GGUF (default /tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf, /tmp/smol/model.gguf,
# then ~/.cache/loraflow/models/...; a tiny test GGUF needs MAX_SEQ_LEN=64), SOAK_SECONDS (d starts no run after it, default 140),
# LORAFLOW_DEVICE (gpu|cpu, default gpu), SCALE (full|small), CHECKS (default "a b c d"),
# LORAFLOW_NATIVE_LIB (the fast path's library; default /tmp/native-build/libloraflow_native.so
# when an earlier warm call built it, BUILD_NATIVE=1 builds it, NATIVE=off runs the plain path).
# RUST_FLAVOR is left unset on purpose (gpu-env.sh is not sourced: it would set it): the harness
# sets it the way the GPU worker does (TokenizerFlavor.useCpuUnlessSet), and a tokenizer that
# tried to download a CUDA flavour would fail here, the host has no network.
set -uo pipefail
OUT=${OUT:-/tmp/durability-out}
mkdir -p "$OUT"
summary=$OUT/summary.jsonl
: >"$summary"
exec > >(tee "$OUT/call.log") 2>&1
t_all=$SECONDS
device=${LORAFLOW_DEVICE:-gpu}
scale=${SCALE:-full}
checks=${CHECKS:-"a b c d"}
gguf=${LORAFLOW_GGUF:-/tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf}
[ -f "$gguf" ] || gguf=/tmp/smol/model.gguf
[ -f "$gguf" ] || gguf=$HOME/.cache/loraflow/models/SmolLM2-135M-Instruct.Q4_1.gguf
[ -f "$gguf" ] || { echo '{"check":"setup","pass":false,"problem":"no GGUF: set LORAFLOW_GGUF"}' | tee -a "$summary"; exit 1; }
echo "device=$device scale=$scale checks=$checks gguf=$gguf sha256=$(sha256sum "$gguf" | cut -c1-16)"
unset RUST_FLAVOR
work=${WORK:-/tmp/durability-work}
rm -rf "$work" && mkdir -p "$work"

if [ "$device" = gpu ]; then
  [ -x .gpu/jre/bin/java ] || tar -xJf .gpu/jre.tar.xz -C .gpu
  source .gpu/device-setup.sh || { echo '{"check":"setup","pass":false,"problem":"device-setup.sh failed"}' | tee -a "$summary"; exit 1; }
  nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
  lib=/tmp/native-build/libloraflow_native.so
  if [ "${NATIVE:-on}" = off ]; then
    unset LORAFLOW_NATIVE_LIB
  elif [ -z "${LORAFLOW_NATIVE_LIB:-}" ]; then
    if [ ! -f "$lib" ] && [ "${BUILD_NATIVE:-0}" = 1 ]; then
      t0=$SECONDS
      bash .gpu/native/build.sh /tmp/native-build .gpu/jre >"$OUT/native-build.log" 2>&1
      echo "native build rc=$? in $((SECONDS - t0)) s"
    fi
    [ -f "$lib" ] && export LORAFLOW_NATIVE_LIB=$lib
  fi
  echo "fast path library: ${LORAFLOW_NATIVE_LIB:-none (plain DJL ops)}"
  cp_=".gpu/lib/*"
  heap=-Xmx8g
else
  JAVA=${JAVA:-java}
  cp_=".gpu/lib/*:${CPU_EXTRA_CP:?CPU_EXTRA_CP: the pytorch-native-cpu and pytorch-jni jars for a CPU run}"
  heap=-Xmx3g
fi
if [ "$scale" = small ]; then # CPU: a few steps on a slice of the FAQ (each model load is minutes on a busy CPU)
  train=(--train-limit 4 --batch 1 --epochs 1 --checkpoint-every 2 --eval-every 2 --eval-limit 1)
  evalopts=(--prompts 1 --seen 1 --max-new-tokens 8)
  kill_at=3 kill_after_ckpt=2
  oom=(--train-limit 2 --batch 2 --eval-limit 1)
  soak=(--runs "${SOAK_RUNS:-3}" --train-limit 1 --batch 1 --eval-limit 1 --soak-prompts 1 --soak-tokens 4)
  tmo=(900 1500 900 1500)
else
  train=(--batch 4 --epochs 2 --checkpoint-every 10 --eval-every 10)
  evalopts=(--prompts 8 --seen 8 --max-new-tokens 64)
  kill_at=25 kill_after_ckpt=20
  oom=(--batch 64)
  soak=(--runs 20 --train-limit 12 --batch 4 --max-seconds "${SOAK_SECONDS:-140}")
  tmo=(120 150 180 170)
fi
J=("$JAVA" "$heap" -cp "$cp_" io.loraflow.gpu.GpuDurabilityCheck)
common=(--model "$gguf" --work "$work" --device "$device" --max-seq-len "${MAX_SEQ_LEN:-512}")
# run NAME LOG TIMEOUT MODE ARGS...: one JVM; its check line goes to the summary, or, when it died
# without one (timeout, crash), a failing line that says so with the log's last error
run() {
  local name=$1 log=$2 limit=$3 t0=$SECONDS rc
  shift 3
  timeout "$limit" "${J[@]}" "$@" >"$log" 2>&1
  rc=$?
  echo "$name rc=$rc in $((SECONDS - t0)) s"
  record "$name" "$log" "$rc"
}
record() {
  if grep -q '^{"check"' "$2"; then
    grep -h '^{"check"' "$2" | tee -a "$summary" | cut -c1-600
  else
    local why
    why=$(grep -E 'Exception|Error|error' "$2" | head -1 | tr -d '"\\' | cut -c1-300)
    echo "{\"check\":\"$1\",\"pass\":false,\"rc\":$3,\"problem\":\"no result line (rc $3$([ "$3" = 124 ] && echo ', timed out')): $why\",\"log\":\"$(basename "$2")\"}" |
      tee -a "$summary"
  fi
}

run prepare "$OUT/prepare.log" 120 prepare "${common[@]}"

if [[ $checks == *a* ]]; then
  run train-a "$OUT/a-train.log" "${tmo[0]}" train "${common[@]}" --name a "${train[@]}"
  run eval "$OUT/a-eval.log" "${tmo[0]}" eval "${common[@]}" --adapter "$work/adapter-a" \
    --out "$OUT/eval-report.json" "${evalopts[@]}"
fi

if [[ $checks == *b* ]]; then
  t0=$SECONDS
  # the same run; kill -9 once step $kill_at is done and checkpoint $kill_after_ckpt is published
  : >"$OUT/b1-train.log"
  "${J[@]}" train "${common[@]}" --name b "${train[@]}" >"$OUT/b1-train.log" 2>&1 &
  pid=$!
  killed=0
  while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt "${tmo[1]}" ]; do
    if grep -q "\"event\":\"checkpoint\",\"step\":$kill_after_ckpt}" "$OUT/b1-train.log" &&
      grep -q "\"event\":\"step\",\"step\":$kill_at," "$OUT/b1-train.log"; then
      kill -9 "$pid"
      killed=1
      break
    fi
    sleep 0.2
  done
  [ $killed = 1 ] || kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  echo "b killed=$killed after $((SECONDS - t0)) s"
  run train-b-resumed "$OUT/b2-train.log" "${tmo[1]}" train "${common[@]}" --name b "${train[@]}"
  run kill-resume "$OUT/b-verify.log" 60 verify-resume --a "$OUT/a-train.log" \
    --killed "$OUT/b1-train.log" --resumed "$OUT/b2-train.log" --tol "${RESUME_TOL:-0.02}"
fi

if [[ $checks == *c* ]]; then
  run oom-fallback "$OUT/c-oom.log" "${tmo[2]}" oom "${common[@]}" "${oom[@]}" --part fallback
  run oom-batch-1 "$OUT/c-oom-one.log" "${tmo[2]}" oom "${common[@]}" "${oom[@]}" --part one
fi

if [[ $checks == *d* ]]; then
  run soak "$OUT/d-soak.log" "${tmo[3]}" soak "${common[@]}" "${soak[@]}"
  grep -h '"event":"memory"' "$OUT/d-soak.log" | cut -c1-200
fi

if [[ $checks == *e* ]] && [ "$device" = gpu ]; then # a hung CUDA call under the stall watchdog
  run hang "$OUT/e-hang.log" 200 hang "${common[@]}" --name h "${train[@]}" \
    --hang-at-step "${HANG_AT:-12}" --hang-seconds "${HANG_SECONDS:-40}" --stall-floor "${STALL_FLOOR:-5}"
fi

n=$(grep -c '"pass":true' "$summary")
all=$(grep -c '"check"' "$summary")
echo "{\"check\":\"all\",\"pass\":$([ "$n" = "$all" ] && echo true || echo false),\"passed\":$n,\"checks\":$all,\"device\":\"$device\",\"seconds\":$((SECONDS - t_all))}" | tee -a "$summary"
