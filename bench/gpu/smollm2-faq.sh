#!/usr/bin/env bash
# Issue 8's last row on the GPU host: real SmolLM2-135M-Instruct weights on the sample FAQ, 1 epoch,
# batch 1, our engine (`train`, fast path and plain) against the seed's recipe (seed_faq.py), on
# exactly the same token sequences (seed_faq.py tokenizes once with the model's chat template and
# writes the tokenized JSONL both engines read).
#   bash .gpu/bench/smollm2-faq.sh /tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf "$OUT" [VARIANT...]
# VARIANT: name:flags for our train command, e.g. fast: fast-nockpt:--no-grad-checkpointing
# plain: (plain = the same without LORAFLOW_NATIVE_LIB). Results: OUT/faq-results.jsonl (one summary
# per engine: median per-step tokens/s after 3 warm-up steps, eval loss before/after), logs beside.
set -uo pipefail
gguf=${1:?usage: smollm2-faq.sh GGUF OUT [VARIANT...]}
out=${2:?usage: smollm2-faq.sh GGUF OUT [VARIANT...]}
shift 2
variants=${*:-"fast: fast-nockpt:--no-grad-checkpointing plain:"}
mkdir -p "$out"
source .gpu/bench/gpu-env.sh || exit 1
lib=/tmp/native-build/libloraflow_native.so
[ -f "$lib" ] || bash .gpu/native/build.sh /tmp/native-build .gpu/jre >"$out/build-faq.log" 2>&1
train=/tmp/faq-train.jsonl
timeout 300 python3 .gpu/bench/seed_faq.py --gguf "$gguf" --data .gpu/bench/ecommerce-faq.json \
  --tokenized-out "$train" --eval-out /tmp/faq-eval.jsonl >"$out/faq-reference.log" 2>&1
echo "reference rc=$?"
grep '"event": "summary"' "$out/faq-reference.log" | sed 's/^{/{"run":"reference",/' >>"$out/faq-results.jsonl"
tail -2 "$out/faq-reference.log" | cut -c1-400
for v in $variants; do
  name=${v%%:*}
  flags=$(echo "${v#*:}" | tr ',' ' ')
  native=$lib
  [ "$name" = plain ] && native=
  rm -rf "/tmp/faq-$name"
  t0=$SECONDS
  LORAFLOW_NATIVE_LIB=$native timeout 300 "$JAVA" -Xmx8g -cp ".gpu/lib/*" io.loraflow.engine.train.TrainCommand \
    --model "$gguf" --data "$train" --out "/tmp/faq-$name" --device gpu --epochs 1 --batch-size 1 \
    --eval-fraction 0 --metrics "$out/faq-$name-steps.jsonl" $flags >"$out/faq-$name.log" 2>"$out/faq-$name.err"
  rc=$?
  python3 - "$out/faq-$name-steps.jsonl" "$out/faq-$name.log" "$name" "$rc" "$((SECONDS - t0))" >>"$out/faq-results.jsonl" <<'PY'
import json, re, statistics, sys
try:
    steps = [json.loads(l) for l in open(sys.argv[1])]
except OSError:
    steps = []
log = open(sys.argv[2]).read()
tps = [s["tokens_per_s"] for s in steps[3:] if s.get("tokens_per_s")]
ev = re.findall(r"eval loss (before|after): ([0-9.]+)", log)
d = dict(ev)
print(json.dumps({"run": "ours-" + sys.argv[3], "rc": int(sys.argv[4]), "wall_s": int(sys.argv[5]),
                  "steps": len(steps), "median_tokens_per_s": round(statistics.median(tps), 1) if tps else None,
                  "max_memory_gib": round(max(s["memory_bytes"] for s in steps) / 2**30, 2) if steps else None,
                  "eval_loss_before": float(d["before"]) if "before" in d else None,
                  "eval_loss_after": float(d["after"]) if "after" in d else None}))
PY
  tail -1 "$out/faq-results.jsonl"
  grep -E "Exception|Error|fast path" "$out/faq-$name.err" "$out/faq-$name.log" | head -3 | cut -c1-300
done
