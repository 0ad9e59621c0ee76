"""transformers + peft counterpart of QloraBench (same shapes, data and LoRA config).

Two recipes:

* ``--recipe seed`` (default): the seed project's QLoRA recipe, what a user would pick instead of
  us: bitsandbytes NF4 with double quantization and fp16 compute (``Linear4bit``, blocksize 64),
  ``prepare_model_for_kbit_training`` (frozen base, non-quantized weights in fp32), gradient
  checkpointing (non-reentrant), ``PagedAdamW8bit``, fp16 autocast + GradScaler, grad clip 0.3.
  bitsandbytes comes from ../shared/gpu/site.tar.xz (``PYTHONPATH=/tmp/site``).
* ``--recipe fp16-base``: LoRA on an fp16 base (no bitsandbytes), torch AdamW.

  python3 bench/train/qlora_speed.py --shape falcon-7b --batch 1 --seq 256 --steps 23
  python3 bench/train/qlora_speed.py --shape llama-3-8b --batch 8 --seq 256 --steps 23

Weights are random N(0, 0.02), created directly on the GPU: the model is built on the meta device,
each linear layer is made in fp16 on the GPU and quantized at once (so a 70B shape never exists in
fp16), then embeddings/norms are materialized and rotary tables rebuilt on the GPU. Data: ids
3 + (j * 7919 + b * 104729) mod (min(V, 32000) - 3), labels = ids. The first --warmup steps are
untimed; the summary gives the median step of the rest, tokens/s of that median, torch's max
allocated/reserved bytes over the timed steps and cudaMemGetInfo used bytes.
"""

import argparse
import json
import statistics
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import FalconConfig, FalconForCausalLM, LlamaConfig, LlamaForCausalLM

LLAMA_ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


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
        return LlamaForCausalLM, cfg, LLAMA_ALL
    if shape == "llama-3-8b":
        cfg = LlamaConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336,
                          num_hidden_layers=layers or 32, num_attention_heads=32,
                          num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0,
                          tie_word_embeddings=False)
        return LlamaForCausalLM, cfg, LLAMA_ALL
    if shape == "smollm2-135m":
        cfg = LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                          num_hidden_layers=layers or 30, num_attention_heads=9,
                          num_key_value_heads=3, max_position_embeddings=8192, rope_theta=100000.0,
                          tie_word_embeddings=True)
        return LlamaForCausalLM, cfg, LLAMA_ALL
    if shape == "tiny":
        cfg = FalconConfig(vocab_size=512, hidden_size=256, num_hidden_layers=layers or 2,
                           num_attention_heads=4, multi_query=True, parallel_attn=True,
                           new_decoder_architecture=False, bias=False, alibi=False,
                           max_position_embeddings=512, tie_word_embeddings=True)
        return FalconForCausalLM, cfg, ["query_key_value"]
    raise SystemExit(f"unknown shape {shape}")


def parent_of(model, name):
    parent = model
    parts = name.split(".")
    for p in parts[:-1]:
        parent = getattr(parent, p)
    return parent, parts[-1]


def materialize(model, cfg, dev, quantize):
    """Meta model -> GPU: linears (not lm_head) as NF4 Linear4bit or fp16, the rest fp16."""
    if quantize:
        import bitsandbytes as bnb
    for name, mod in list(model.named_modules()):
        if isinstance(mod, torch.nn.Linear) and not name.endswith("lm_head"):
            w = torch.empty(mod.out_features, mod.in_features, device=dev,
                            dtype=torch.float16).normal_(0.0, 0.02)
            if quantize:
                new = bnb.nn.Linear4bit(mod.in_features, mod.out_features, bias=mod.bias is not None,
                                        compute_dtype=torch.float16, compress_statistics=True,
                                        quant_type="nf4", device="meta")
                new.weight = bnb.nn.Params4bit(w, requires_grad=False, blocksize=64,
                                               compress_statistics=True, quant_type="nf4",
                                               module=new).to(dev)
                if mod.bias is not None:
                    new.bias = torch.nn.Parameter(torch.zeros(mod.out_features, device=dev,
                                                              dtype=torch.float16))
            else:
                new = torch.nn.Linear(mod.in_features, mod.out_features, bias=mod.bias is not None,
                                      device=dev, dtype=torch.float16)
                with torch.no_grad():
                    new.weight.copy_(w)
                    if new.bias is not None:
                        new.bias.zero_()
            del w
            parent, attr = parent_of(model, name)
            setattr(parent, attr, new)
    tied = getattr(cfg, "tie_word_embeddings", False)
    for mname, mod in list(model.named_modules()):
        if tied and mname.endswith("lm_head"):
            continue  # re-tied below
        for pname, p in list(mod.named_parameters(recurse=False)):
            if p.device.type != "meta":
                continue
            t = torch.empty(p.shape, device=dev, dtype=torch.float16)
            if p.dim() == 1:
                t.zero_() if pname.endswith("bias") else t.fill_(1.0)
            else:
                t.normal_(0.0, 0.02)
            setattr(mod, pname, torch.nn.Parameter(t, requires_grad=False))
    for mname, mod in list(model.named_modules()):
        if type(mod).__name__.endswith("RotaryEmbedding") and mname:
            parent, attr = parent_of(model, mname)
            setattr(parent, attr, type(mod)(config=cfg, device=dev))
    if tied:
        model.tie_weights()
    for mname, mod in model.named_modules():
        for bname, b in mod.named_buffers(recurse=False):
            if b.device.type == "meta":
                raise SystemExit(f"buffer {mname}.{bname} left on the meta device")
    for n, p in model.named_parameters():
        if p.device.type == "meta":
            raise SystemExit(f"parameter {n} left on the meta device")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="falcon-7b")
    ap.add_argument("--recipe", choices=["seed", "fp16-base"], default="seed")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=23)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--targets", default="")
    ap.add_argument("--no-grad-checkpointing", action="store_true")
    a = ap.parse_args()
    dev = torch.device("cuda")
    cls, cfg, targets = build(a.shape, a.layers)
    if a.targets:
        targets = a.targets.split(",")
    free0, total = torch.cuda.mem_get_info()
    mem_start = total - free0
    t0 = time.time()
    with torch.device("meta"):
        model = cls(cfg)
    seed = a.recipe == "seed"
    materialize(model, cfg, dev, quantize=seed)
    model.config.use_cache = False
    gc_kwargs = {"use_reentrant": False}
    if seed:
        from peft import prepare_model_for_kbit_training
        model.is_loaded_in_4bit = True  # what from_pretrained(quantization_config=...) sets
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=not a.no_grad_checkpointing,
            gradient_checkpointing_kwargs=gc_kwargs)
    if not a.no_grad_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=gc_kwargs)
        model.enable_input_require_grads()
    lora = LoraConfig(r=a.r, lora_alpha=2 * a.r, lora_dropout=0.05, target_modules=targets,
                      task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)  # LoRA weights in fp32
    n4 = 0
    if seed:
        import bitsandbytes as bnb
        n4 = sum(1 for m in model.modules() if isinstance(m, bnb.nn.Linear4bit))
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    load_s = time.time() - t0
    free, total = torch.cuda.mem_get_info()
    mem_loaded = total - free
    params = [p for p in model.parameters() if p.requires_grad]
    if seed:
        import bitsandbytes as bnb
        opt = bnb.optim.PagedAdamW8bit(params, lr=2e-4, weight_decay=0.0)
    else:
        opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)
    scaler = torch.amp.GradScaler()
    vocab = min(cfg.vocab_size, 32000)
    ids = torch.tensor([[3 + (j * 7919 + b * 104729) % (vocab - 3) for j in range(a.seq)]
                        for b in range(a.batch)], device=dev)
    print(json.dumps({"event": "loaded", "shape": a.shape, "recipe": a.recipe,
                      "load_s": round(load_s, 1), "linear4bit_modules": n4,
                      "mem_start": mem_start, "mem_loaded": mem_loaded,
                      "lora_params": sum(p.numel() for p in params)}), flush=True)
    model.train()
    times = []
    for step in range(1, a.steps + 1):
        if step == a.warmup + 1:
            torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
        t = time.time()
        with torch.autocast("cuda", dtype=torch.float16):
            loss = model(input_ids=ids, labels=ids).loss
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        gnorm = torch.nn.utils.clip_grad_norm_(params, 0.3)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        dt = time.time() - t
        if step > a.warmup:
            times.append(dt)
        print(json.dumps({"event": "step", "step": step, "loss": round(loss.item(), 4),
                          "step_s": round(dt, 4), "tokens_per_s": round(a.batch * a.seq / dt, 1),
                          "grad_norm": round(float(gnorm), 4)}), flush=True)
    med = statistics.median(times) if times else float("nan")
    free, total = torch.cuda.mem_get_info()
    summary = {"event": "summary",
               "engine": "transformers+peft+bnb(seed recipe)" if seed
               else "transformers+peft(fp16 base)",
               "shape": a.shape, "batch": a.batch, "seq": a.seq,
               "grad_checkpointing": not a.no_grad_checkpointing, "timed_steps": len(times),
               "step_s": round(med, 4),
               "step_s_mean": round(sum(times) / max(1, len(times)), 4),
               "tokens_per_s": round(a.batch * a.seq / med, 1),
               "max_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
               "max_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2),
               "mem_loaded_gib": round(mem_loaded / 2**30, 2),
               "mem_end_gib": round((total - free) / 2**30, 2)}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
