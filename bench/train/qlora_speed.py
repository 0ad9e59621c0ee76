"""transformers + peft counterpart of QloraBench (same shapes, data and LoRA config).

bitsandbytes is not installable on the bench machine, so the base stays fp16 (this is LoRA on an
fp16 base, which needs ~4x the base memory of QLoRA but skips the dequantization work): the
comparison of tokens/s is therefore conservative for us, the memory one is not like for like.

  python3 bench/train/qlora_speed.py --shape falcon-7b --batch 1 --seq 256 --steps 6
  python3 bench/train/qlora_speed.py --shape falcon-7b --batch 8 --seq 256 --steps 6

Prints one JSON line per step and a summary line. Weights are random N(0, 0.02), created directly
on the GPU in fp16 (meta-device init, then to_empty + normal_).
"""

import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import FalconConfig, FalconForCausalLM, LlamaConfig, LlamaForCausalLM


def build(shape, layers):
    if shape == "falcon-7b":
        cfg = FalconConfig(vocab_size=65024, hidden_size=4544, num_hidden_layers=layers or 32,
                           num_attention_heads=71, multi_query=True, parallel_attn=True,
                           new_decoder_architecture=False, bias=False, alibi=False,
                           max_position_embeddings=2048, bos_token_id=11, eos_token_id=11,
                           tie_word_embeddings=True)
        return FalconForCausalLM, cfg, ["query_key_value"]
    if shape == "llama-70b":
        cfg = LlamaConfig(vocab_size=128256, hidden_size=8192, intermediate_size=28672,
                          num_hidden_layers=layers or 80, num_attention_heads=64,
                          num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0,
                          tie_word_embeddings=False)
        return LlamaForCausalLM, cfg, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                       "up_proj", "down_proj"]
    if shape == "tiny":
        cfg = FalconConfig(vocab_size=512, hidden_size=256, num_hidden_layers=layers or 2,
                           num_attention_heads=4, multi_query=True, parallel_attn=True,
                           new_decoder_architecture=False, bias=False, alibi=False,
                           max_position_embeddings=512, tie_word_embeddings=True)
        return FalconForCausalLM, cfg, ["query_key_value"]
    raise SystemExit(f"unknown shape {shape}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="falcon-7b")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--no-grad-checkpointing", action="store_true")
    a = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if dev.type == "cuda" else torch.float32
    cls, cfg, targets = build(a.shape, a.layers)
    mem_start = torch.cuda.mem_get_info()[1] - torch.cuda.mem_get_info()[0] if dev.type == "cuda" else 0
    t0 = time.time()
    with torch.device("meta"):
        model = cls(cfg)
    model = model.to_empty(device=dev).to(dtype)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                (p.zero_() if name.endswith("bias") else p.fill_(1.0))
            else:
                p.normal_(0.0, 0.02)
    model.tie_weights()
    if not a.no_grad_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model.config.use_cache = False
    lora = LoraConfig(r=a.r, lora_alpha=2 * a.r, lora_dropout=0.05, target_modules=targets,
                      task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)  # LoRA weights in fp32 (autocast_adapter_dtype)
    load_s = time.time() - t0
    if dev.type == "cuda":
        torch.cuda.synchronize()
        free, total = torch.cuda.mem_get_info()
        mem_loaded = total - free
    else:
        mem_loaded = 0
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)
    scaler = torch.amp.GradScaler(enabled=dev.type == "cuda")
    vocab = min(cfg.vocab_size, 32000)
    ids = torch.tensor([[3 + (j * 7919 + b * 104729) % (vocab - 3) for j in range(a.seq)]
                        for b in range(a.batch)], device=dev)
    print(json.dumps({"event": "loaded", "shape": a.shape, "load_s": round(load_s, 1),
                      "mem_start": mem_start, "mem_loaded": mem_loaded,
                      "lora_params": sum(p.numel() for p in params)}), flush=True)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    model.train()
    times = []
    for step in range(1, a.steps + 1):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.time()
        with torch.autocast(dev.type, dtype=dtype, enabled=dev.type == "cuda"):
            loss = model(input_ids=ids, labels=ids).loss
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        gnorm = torch.nn.utils.clip_grad_norm_(params, 0.3)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        dt = time.time() - t
        if step > 2:
            times.append(dt)
        print(json.dumps({"event": "step", "step": step, "loss": round(loss.item(), 4),
                          "step_s": round(dt, 4), "tokens_per_s": round(a.batch * a.seq / dt, 1),
                          "grad_norm": round(float(gnorm), 4)}), flush=True)
    summary = {"event": "summary", "engine": "transformers+peft(fp16 base)", "shape": a.shape,
               "batch": a.batch, "seq": a.seq, "grad_checkpointing": not a.no_grad_checkpointing,
               "step_s": round(sum(times) / max(1, len(times)), 4),
               "tokens_per_s": round(a.batch * a.seq * len(times) / max(1e-9, sum(times)), 1)}
    if dev.type == "cuda":
        free, total = torch.cuda.mem_get_info()
        summary.update({"max_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
                        "max_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2),
                        "mem_loaded_gib": round(mem_loaded / 2**30, 2),
                        "mem_end_gib": round((total - free) / 2**30, 2)})
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
