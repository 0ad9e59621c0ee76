#!/usr/bin/env bash
# GPU call 2: QLoRA step speed and memory, ours (Java/DJL, NF4 base) vs transformers+peft (fp16
# base; bitsandbytes is not on the host) on a Falcon-7B shape, batch 1 and 8, seq 256; one
# Llama-70B-shaped QLoRA step (memory target < 48 GB); PEFT on the host loads an adapter our
# engine wrote. Run on the GPU host from the repository root after make-gpu-lib.sh here.
set -uo pipefail
export PYTHONUNBUFFERED=1
source .gpu/device-setup.sh
CP=".gpu/lib/*"
J=("$JAVA" -Xmx24g -cp "$CP" io.loraflow.engine.train.bench.QloraBench)
for b in 1 8; do
  echo "== ours falcon-7b batch $b"
  timeout 200 "${J[@]}" --shape falcon-7b --device gpu --batch $b --seq 256 --steps 6 | grep -E 'summary|step' | tail -3
  echo "== transformers+peft falcon-7b batch $b"
  timeout 150 python3 bench/train/qlora_speed.py --shape falcon-7b --batch $b --seq 256 --steps 6 | tail -2
done
echo "== ours llama-70b batch 1 (one step after warm-up)"
timeout 240 "${J[@]}" --shape llama-70b --device gpu --batch 1 --seq 256 --steps 3 | tail -3
if [ -d .gpu/peft-ours ]; then
  echo "== peft on the host loads our adapter"
  timeout 60 python3 worker-gpu/src/test/python/peft_check_ours.py \
    worker-gpu/src/test/resources/lora/peft-tiny-llama/base .gpu/peft-ours
fi
