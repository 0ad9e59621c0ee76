"""Loads an adapter written by our PeftAdapter.save into PEFT and checks PEFT reads every tensor
into the right module: PEFT's logits must equal the base with W + (alpha/r) * B @ A merged by hand.

Run after PeftAdapterTest has written worker-gpu/target/peft-ours:
  ~/.cache/loraflow/refpy/bin/python worker-gpu/src/test/python/peft_check_ours.py \
      worker-gpu/src/test/resources/lora/peft-tiny-llama/base worker-gpu/target/peft-ours
"""

import json
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import LlamaForCausalLM


def main(base_dir, adapter_dir):
    ids = torch.tensor([[1, 5, 17, 33, 9, 60, 2]])
    model = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(base_dir), adapter_dir).eval()
    with torch.no_grad():
        peft_logits = model(ids).logits
    cfg = json.load(open(f"{adapter_dir}/adapter_config.json"))
    scaling = cfg["lora_alpha"] / cfg["r"]
    tensors = load_file(f"{adapter_dir}/adapter_model.safetensors")
    manual = LlamaForCausalLM.from_pretrained(base_dir).eval()
    params = dict(manual.named_parameters())
    n = 0
    for key, a in tensors.items():
        if ".lora_A." not in key:
            continue
        module = key[len("base_model.model."):-len(".lora_A.weight")]
        b = tensors[key.replace("lora_A", "lora_B")]
        with torch.no_grad():
            params[module + ".weight"] += scaling * (b @ a)
        n += 1
    with torch.no_grad():
        manual_logits = manual(ids).logits
    diff = (peft_logits - manual_logits).abs().max().item()
    print(f"modules={n} max|peft - manual merge|={diff:.3e}")
    assert n > 0 and diff < 1e-4, diff
    print("OK: PEFT loads our adapter")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
