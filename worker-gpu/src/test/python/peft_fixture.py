"""PEFT interop fixtures for PeftAdapterTest (dev-time only; CI reads the committed files).

Writes into worker-gpu/src/test/resources/lora/peft-tiny-llama/:
  base/config.json, base/model.safetensors   a tiny random LlamaForCausalLM (fp32)
  adapter/                                   a LoRA adapter saved by PEFT's save_pretrained
                                             (random A and B, r=4, alpha=8, q/v/o/down_proj)
  expected.safetensors                       input_ids (1, 7) and PEFT's logits (1, 7, vocab) with
                                             the adapter, plus the base logits without it

Run: ~/.cache/loraflow/refpy/bin/python worker-gpu/src/test/python/peft_fixture.py \
        worker-gpu/src/test/resources/lora/peft-tiny-llama
"""

import os
import sys

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM


def main(out):
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                      bos_token_id=1, eos_token_id=2)
    base = LlamaForCausalLM(cfg).eval()
    os.makedirs(out, exist_ok=True)
    base.save_pretrained(os.path.join(out, "base"), safe_serialization=True)
    ids = torch.tensor([[1, 5, 17, 33, 9, 60, 2]])
    with torch.no_grad():
        base_logits = base(ids).logits
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                      target_modules=["q_proj", "v_proj", "o_proj", "down_proj"],
                      init_lora_weights=False, task_type="CAUSAL_LM")
    model = get_peft_model(base, lora).eval()
    model.save_pretrained(os.path.join(out, "adapter"))
    with torch.no_grad():
        logits = model(ids).logits
    save_file({"input_ids": ids, "logits": logits.contiguous(), "base_logits": base_logits.contiguous()},
              os.path.join(out, "expected.safetensors"))
    print("max |adapter - base| logits:", (logits - base_logits).abs().max().item())


if __name__ == "__main__":
    main(sys.argv[1])
