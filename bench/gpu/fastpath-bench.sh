#!/usr/bin/env bash
# Issue 8's table in one call: ours (QloraBench, GPU fast path; --plain too with PLAIN=1) and the
# seed's QLoRA recipe (bench/train/qlora_speed.py, transformers + peft + bitsandbytes) per row,
# median of 20 timed steps after 3 warm-up steps. Run on the GPU host from the repository root after
# `source .gpu/device-setup.sh`, with LORAFLOW_NATIVE_LIB set and bitsandbytes on PYTHONPATH:
#   bash bench/gpu/fastpath-bench.sh OUT_DIR ROW...
# ROW: falcon-b1 falcon-b8 falcon-2048 llama8b-b1 llama8b-b8 llama70b-b1 smollm2
# Appends every summary line (tagged with the row) to OUT_DIR/results.jsonl, all output to
# OUT_DIR/bench.log. BENCH_DIR: where qlora_speed.py is (default bench/train).
set -uo pipefail
out=${1:?usage: fastpath-bench.sh OUT_DIR ROW...}
shift
mkdir -p "$out"
bench=${BENCH_DIR:-bench/train}
steps=${STEPS:-23}
warm=${WARMUP:-3}
J=("$JAVA" -Xmx24g -cp ".gpu/lib/*" io.loraflow.engine.train.bench.QloraBench --device gpu)
args_of() {
  case $1 in
    falcon-b1) echo "--shape falcon-7b --batch 1 --seq 256" ;;
    falcon-b8) echo "--shape falcon-7b --batch 8 --seq 256" ;;
    falcon-2048) echo "--shape falcon-7b --batch 1 --seq 2048" ;;
    llama8b-b1) echo "--shape llama-3-8b --batch 1 --seq 256" ;;
    llama8b-b8) echo "--shape llama-3-8b --batch 8 --seq 256" ;;
    llama70b-b1) echo "--shape llama-70b --batch 1 --seq 256" ;;
    smollm2) echo "--shape smollm2-135m --batch 1 --seq 64" ;;
    *) echo "unknown row $1" >&2; return 1 ;;
  esac
}
run() { # row engine command...
  local row=$1 engine=$2
  shift 2
  echo "== $row $engine: $*" | tee -a "$out/bench.log"
  local t0=$SECONDS
  timeout "${ROW_TIMEOUT:-300}" "$@" >"$out/.run" 2>&1
  local rc=$?
  cat "$out/.run" >>"$out/bench.log"
  grep -E '"event": ?"summary"' "$out/.run" | tail -1 |
    sed "s/^{/{\"row\":\"$row\",\"run\":\"$engine\",\"wall_s\":$((SECONDS - t0)),\"rc\":$rc,/" >>"$out/results.jsonl"
  grep -E '"event": ?"(summary|path)"|Exception|Error|error' "$out/.run" | head -5 | cut -c1-400
  echo "   rc=$rc wall=$((SECONDS - t0))s"
}
for row in "$@"; do
  a=$(args_of "$row") || continue
  run "$row" ours-fast "${J[@]}" $a --steps "$steps" --warmup "$warm"
  for v in ${VARIANTS:-}; do # name:--flag[,--flag] runs ours again with those flags
    run "$row" "ours-${v%%:*}" "${J[@]}" $a --steps "$steps" --warmup "$warm" $(echo "${v#*:}" | tr ',' ' ')
  done
  if [ "${PLAIN:-0}" = 1 ] || [[ " ${PLAIN_ROWS:-} " == *" $row "* ]]; then
    run "$row" ours-plain "${J[@]}" $a --steps "$steps" --warmup "$warm" --plain
  fi
  if [ "${REF:-1}" = 1 ]; then
    targets=""
    case $row in falcon-*) targets="--targets query_key_value" ;; esac
    run "$row" reference python3 "$bench/qlora_speed.py" $a --steps "$steps" --warmup "$warm" $targets
  fi
done
rm -f "$out/.run"
