#!/usr/bin/env bash
# GPU call 1: model numerics (logits vs transformers, fp32/fp16, tiny + mid-size, both
# families) and generation speed on a Falcon-7B-shaped model. Run on the GPU host from the
# repository root after make-gpu-lib.sh here; writes results under $OUT.
set -uo pipefail
export PYTHONUNBUFFERED=1
source .gpu/device-setup.sh
CP=".gpu/lib/*"
mkdir -p bench/out bench/results
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch,transformers,peft;print('torch',torch.__version__,'transformers',transformers.__version__,'peft',peft.__version__)"
echo "== logits"
python3 bench/model/compare_logits.py make --out bench/out/logits --device cuda
for d in bench/out/logits/*/; do
  $JAVA -cp "$CP" io.loraflow.engine.model.bench.LogitsBench --dir "$d" --device gpu || echo "LogitsBench failed for $d"
done
python3 bench/model/compare_logits.py compare --out bench/out/logits --table bench/results/model_logits.md
cp bench/results/model_logits.* "$OUT/" 2>/dev/null
echo "== generation speed, Falcon-7B shape"
python3 bench/model/make_speed_model.py --shape falcon7b --out bench/out/falcon7b --device cuda
for b in 1 8; do
  python3 bench/model/generate_speed.py --model bench/out/falcon7b --device cuda --dtype fp16 --batch $b --prompt-len 128 --new 128
  $JAVA -cp "$CP" io.loraflow.engine.model.bench.GenerationBench --model bench/out/falcon7b --device gpu --dtype fp16 --batch $b --prompt-len 128 --new 128
done
