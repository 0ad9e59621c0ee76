#!/usr/bin/env bash
# GPU call 10: the logits comparison of model-benches.sh again, after the perf merge (fp16
# attention softmax, fp16 dequantization): same configs, same targets. Writes $OUT/model_logits.*.
set -uo pipefail
export PYTHONUNBUFFERED=1
source .gpu/device-setup.sh
CP=".gpu/lib/*"
python3 bench/model/compare_logits.py make --out bench/out/logits --device cuda >/dev/null 2>&1
for d in bench/out/logits/*/; do
  "$JAVA" -cp "$CP" io.loraflow.engine.model.bench.LogitsBench --dir "$d" --device gpu 2>&1 | grep -v SLF4J
done
python3 bench/model/compare_logits.py compare --out bench/out/logits --table bench/results/model_logits.md
cp bench/results/model_logits.* "$OUT/"
