#!/usr/bin/env bash
# Issue 10: which demo recipe makes SmolLM2-135M recall the FAQ (seen-question ROUGE-L >= 0.5) while
# its published adapter (best by held-out loss, epoch-end evaluations as the demo presets) keeps
# held-out eval loss <= -35%? Each recipe is one train + eval of io.loraflow.gpu.GpuDurabilityCheck
# (the GPU worker's own cores: EngineSession, Trainer with best checkpoint, EvalActivity) on the real
# GGUF and the sample FAQ, the pipeline's split and template. A 135M model leaves the H200 mostly
# idle, so PARALLEL recipes run at once, each in its own JVM and work directory.
#   GPU: bash bench/gpu/recipe-sweep.sh         (from the checkout root that travelled with .gpu/)
#   CPU: LORAFLOW_DEVICE=cpu CPU_EXTRA_CP=... TRAIN_TIMEOUT=3600 EVAL_TIMEOUT=1800 PARALLEL=2 bash bench/gpu/recipe-sweep.sh
# Settings: RECIPES (space-separated NAME:opt=val,opt=val; opts are GpuDurabilityCheck's train
# options: epochs lr r alpha dropout schedule warmup batch grad-accum eval-every), PARALLEL (4),
# PROMPTS (8 held-out and 8 seen questions), MAX_NEW (96, the demo's), LORAFLOW_GGUF, OUT.
set -uo pipefail
OUT=${OUT:-/tmp/sweep-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/sweep.log") 2>&1
gguf=${LORAFLOW_GGUF:-/tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf}
[ -f "$gguf" ] || { echo "no GGUF at $gguf"; exit 1; }
recipes=${RECIPES:-"learns:epochs=4,lr=1.5e-3,batch=2,dropout=0"}
parallel=${PARALLEL:-4}
unset RUST_FLAVOR
device=${LORAFLOW_DEVICE:-gpu}
if [ "$device" = gpu ]; then
  [ -x .gpu/jre/bin/java ] || tar -xJf .gpu/jre.tar.xz -C .gpu
  source .gpu/device-setup.sh || { echo "device-setup.sh failed"; exit 1; }
  lib=/tmp/native-build/libloraflow_native.so
  if [ ! -f "$lib" ] && [ "${BUILD_NATIVE:-1}" = 1 ]; then
    bash .gpu/native/build.sh /tmp/native-build .gpu/jre >"$OUT/native-build.log" 2>&1
  fi
  [ -f "$lib" ] && export LORAFLOW_NATIVE_LIB=$lib
  echo "fast path library: ${LORAFLOW_NATIVE_LIB:-none}"
  J=("$JAVA" -Xmx6g -cp ".gpu/lib/*" io.loraflow.gpu.GpuDurabilityCheck)
else # CPU (this machine): one torch thread per JVM, PARALLEL JVMs share the cores
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
  J=("${JAVA:-java}" -Xmx3g -cp ".gpu/lib/*:${CPU_EXTRA_CP:?CPU_EXTRA_CP: the pytorch-native-cpu and pytorch-jni jars}" io.loraflow.gpu.GpuDurabilityCheck)
fi
base=${WORK:-/tmp/sweep-work}
rm -rf "$base" && mkdir -p "$base/prepared"
"${J[@]}" prepare --model "$gguf" --work "$base/prepared" --device "$device" --max-seq-len 512 >"$OUT/prepare.log" 2>&1
grep '^{"check"' "$OUT/prepare.log" | cut -c1-300

one() { # NAME OPTS: train then evaluate the published adapter; check lines to $OUT/NAME.jsonl
  local name=$1 opts=$2 w=$base/$1 t0=$SECONDS
  mkdir -p "$w" && cp "$base"/prepared/*.jsonl "$w"/
  local args=()
  IFS=',' read -r -a kv <<<"$opts"
  for p in "${kv[@]}"; do args+=("--${p%%=*}" "${p#*=}"); done
  timeout "${TRAIN_TIMEOUT:-600}" "${J[@]}" train --model "$gguf" --work "$w" --device "$device" --max-seq-len 512 --name "$name" \
    --checkpoint-every 50 --eval-every 0 "${args[@]}" >"$OUT/$name-train.log" 2>&1
  timeout "${EVAL_TIMEOUT:-300}" "${J[@]}" eval --model "$gguf" --work "$w" --device "$device" --max-seq-len 512 \
    --adapter "$w/adapter-$name" --out "$OUT/$name-report.json" --prompts "${PROMPTS:-8}" \
    --seen "${PROMPTS:-8}" --max-new-tokens "${MAX_NEW:-96}" >"$OUT/$name-eval.log" 2>&1
  if [ "${EVAL_LAST:-1}" = 1 ]; then # the last epoch's weights, to see what the best-by-held-out rule gives up
    timeout "${EVAL_TIMEOUT:-300}" "${J[@]}" eval --model "$gguf" --work "$w" --device "$device" --max-seq-len 512 \
      --adapter "$w/adapter-$name-last" --out "$OUT/$name-last-report.json" --prompts "${PROMPTS:-8}" \
      --seen "${PROMPTS:-8}" --max-new-tokens "${MAX_NEW:-96}" 2>&1 | grep '^{"check"' | sed 's/"check":"eval"/"check":"eval-last"/' >"$OUT/$name-last.log"
  fi
  { grep -h '"event":"eval"' "$OUT/$name-train.log"; grep -h '^{"check"' "$OUT/$name-train.log" "$OUT/$name-eval.log" "$OUT/$name-last.log" 2>/dev/null; } \
    | sed "s/^/{\"recipe\":\"$name\",\"opts\":\"$opts\",\"line\":/; s/\$/}/" >"$OUT/$name.jsonl"
  echo "$name ($opts) done in $((SECONDS - t0)) s"
}
running=0
for r in $recipes; do
  one "${r%%:*}" "${r#*:}" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then wait -n; running=$((running - 1)); fi
done
wait
cat "$OUT"/*.jsonl >"$OUT/summary.jsonl"
# one line per recipe: best step, held-out loss base -> published, ROUGE-L held-out and seen
python3 - "$OUT/summary.jsonl" <<'PY' | tee "$OUT/table.md"
import json, sys
rows = {}
for l in open(sys.argv[1]):
    d = json.loads(l); r = rows.setdefault(d["recipe"], {"opts": d["opts"], "evals": []}); x = d["line"]
    if x.get("event") == "eval": r["evals"].append((x.get("step"), x.get("loss")))
    elif x.get("check", "").startswith("train-"): r["train"] = x
    elif x.get("check") == "eval": r["eval"] = x
    elif x.get("check") == "eval-last": r["last"] = x
print("| recipe | opts | best step | held-out loss base -> published | held-out ROUGE-L | seen ROUGE-L | last weights: held-out loss, seen ROUGE-L | epoch-end held-out losses |")
print("|---|---|---|---|---|---|---|---|")
for k, r in rows.items():
    t, e = r.get("train", {}), r.get("eval", {})
    b, a = e.get("base_eval_loss"), e.get("adapter_eval_loss")
    ch = f"{b:.3f} -> {a:.3f} ({(a / b - 1) * 100:+.1f}%)" if b and a else "-"
    f = lambda v: "-" if v is None else f"{v:.3f}"
    la = r.get("last", {})
    lc = f"{la.get('adapter_eval_loss', float('nan')):.3f}, {f(la.get('seen_adapter_rouge_l'))}" if la else "-"
    print(f"| {k} | {r['opts']} | {t.get('best_step')} / {t.get('total_steps')} | {ch} | {f(e.get('base_rouge_l'))} -> {f(e.get('adapter_rouge_l'))} | {f(e.get('seen_base_rouge_l'))} -> {f(e.get('seen_adapter_rouge_l'))} | {lc} | {' '.join(f'{s}:{v:.3f}' for s, v in r['evals'])} |")
PY
