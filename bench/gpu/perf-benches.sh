#!/usr/bin/env bash
# perf branch, GPU call 9: one Llama-70B QLoRA step with and without the decoded-absmax cache,
# then Falcon-7B batch 1 and 8, ours (without/with --absmax-cache) vs transformers+peft, same call.
# Run on the GPU host from the repository root after `bash bench/gpu/make-gpu-lib.sh` here.
set -uo pipefail
export PYTHONUNBUFFERED=1
source .gpu/device-setup.sh
J=("$JAVA" -Xmx24g -cp ".gpu/lib/*" io.loraflow.engine.train.bench.QloraBench)
for cache in "" "--absmax-cache"; do
  echo "== ours llama-70b batch 1 $cache"
  timeout 150 "${J[@]}" --shape llama-70b --device gpu --batch 1 --seq 256 --steps 3 $cache 2>&1 | grep -E '"event"|Exception|Error|at io|Caused' | cut -c1-420 | head -8
done
for b in 1 8; do
  for cache in "" "--absmax-cache"; do
    echo "== ours falcon-7b batch $b $cache"
    timeout 120 "${J[@]}" --shape falcon-7b --device gpu --batch $b --seq 256 --steps 6 $cache 2>&1 | grep -E '"event":"(summary|loaded)"|Exception|Error|at io' | cut -c1-420 | head -6
  done
  echo "== transformers+peft falcon-7b batch $b"
  timeout 150 python3 bench/train/qlora_speed.py --shape falcon-7b --batch $b --seq 256 --steps 6 2>&1 | tail -1
done
