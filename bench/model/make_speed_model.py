"""Random-weight HF model dirs in real model shapes, for the generation speed benches.

    python3 bench/model/make_speed_model.py --shape falcon7b --out bench/out/falcon7b --device cuda
    python3 bench/model/make_speed_model.py --shape smollm2 --out bench/out/smollm2

falcon7b: tiiuae/falcon-7b's shape (hidden 4544, 71 heads, multi-query, 32 layers, vocab 65024,
parallel attention, rotary), fp16, ~14 GB on disk in 5 GB shards.
smollm2: HuggingFaceTB/SmolLM2-135M's shape (hidden 576, 9 heads / 3 kv, 30 layers, vocab 49152,
tied embeddings, rope theta 100000), fp32.
Weights are HF's default init (normal, std 0.02): fine for speed, meaningless text.
"""
import argparse
import time

import torch
from transformers import FalconConfig, FalconForCausalLM, LlamaConfig, LlamaForCausalLM

SHAPES = {
    "falcon7b": (FalconForCausalLM, FalconConfig(
        vocab_size=65024, hidden_size=4544, num_hidden_layers=32, num_attention_heads=71,
        multi_query=True, parallel_attn=True, new_decoder_architecture=False, bias=False,
        alibi=False, layer_norm_epsilon=1e-5, max_position_embeddings=2048, rope_theta=10000.0,
        bos_token_id=11, eos_token_id=11), torch.float16),
    "smollm2": (LlamaForCausalLM, LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192,
        rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=True, bos_token_id=1,
        eos_token_id=2), torch.float32),
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=SHAPES, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    cls, config, dtype = SHAPES[a.shape]
    t0 = time.time()
    torch.manual_seed(0)
    with torch.device(a.device):
        model = cls._from_config(config, dtype=dtype)
    model.save_pretrained(a.out, safe_serialization=True, max_shard_size="5GB")
    n = sum(p.numel() for p in model.parameters())
    print(f"{a.shape}: {n/1e9:.2f}B params, {dtype}, saved to {a.out} in {time.time()-t0:.0f} s")
