"""Our logits vs HF transformers on the same random weights, tiny and mid-size, both families.

    python3 bench/model/compare_logits.py make --out bench/out/logits [--device cuda]
    # then, for each DIR in bench/out/logits/*/ :
    #   $JAVA -cp ... io.loraflow.engine.model.bench.LogitsBench --dir DIR --device gpu
    python3 bench/model/compare_logits.py compare --out bench/out/logits \
        --table bench/results/model_logits.md

`make` writes per config DIR an HF model in DIR/hf (config.json + model.safetensors, fp32), inputs.safetensors
(input_ids / attention_mask / position_ids: batch 2 x 64 tokens, row 1 left padded by 16) and
ref_fp32.safetensors / ref_fp16.safetensors (transformers' logits, stored as fp32).
`compare` reads ours_fp32 / ours_fp16 (written by LogitsBench) and reports, over the real
(unpadded) tokens, max|ours - ref_fp32| / max|ref_fp32|; targets: < 1e-4 (fp32), < 1e-2 (fp16).
"""
import argparse
import json
import math
import os
import platform

import torch
from safetensors.torch import load_file, save_file
from transformers import (
    FalconConfig,
    FalconForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

BATCH, SEQ, PAD = 2, 64, 16


def configs():
    tiny = dict(vocab_size=256, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                max_position_embeddings=256)
    mid = dict(vocab_size=32000, hidden_size=1024, num_hidden_layers=8, num_attention_heads=16,
               max_position_embeddings=2048)
    for size, base in (("tiny", tiny), ("mid", mid)):
        h = base["hidden_size"]
        yield f"llama_gqa_{size}", LlamaForCausalLM, LlamaConfig(
            **base, intermediate_size=int(h * 2.75), num_key_value_heads=base["num_attention_heads"] // 4,
            rope_theta=500000.0, tie_word_embeddings=False,
            rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                              original_max_position_embeddings=128))
        yield f"qwen2_bias_{size}", Qwen2ForCausalLM, Qwen2Config(
            **base, intermediate_size=int(h * 2.75), num_key_value_heads=base["num_attention_heads"] // 2,
            rope_theta=1000000.0, tie_word_embeddings=True)
        yield f"falcon7b_layout_{size}", FalconForCausalLM, FalconConfig(
            **base, multi_query=True, parallel_attn=True, new_decoder_architecture=False, bias=False,
            alibi=False)
        yield f"falcon_new_arch_{size}", FalconForCausalLM, FalconConfig(
            **base, new_decoder_architecture=True, num_kv_heads=base["num_attention_heads"] // 4,
            num_ln_in_parallel_attn=2, parallel_attn=True, bias=False, alibi=False)


def randomize(model, seed):
    """Weights that keep activations O(1) at any width: linears ~ N(0, 1/in), norms ~ 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 2 and "embed" not in name and "word_embeddings" not in name:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))
            elif p.ndim == 2:
                p.copy_(torch.randn(p.shape, generator=g))
            elif name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


def make(out, device, only):
    os.makedirs(out, exist_ok=True)
    for i, (name, cls, config) in enumerate(configs()):
        if only and only not in name:
            continue
        d = os.path.join(out, name)
        torch.manual_seed(i)
        model = cls(config).eval()
        randomize(model, 100 + i)
        model.save_pretrained(os.path.join(d, "hf"), safe_serialization=True)
        g = torch.Generator().manual_seed(200 + i)
        ids = torch.randint(3, config.vocab_size, (BATCH, SEQ), generator=g)
        mask = torch.ones(BATCH, SEQ, dtype=torch.long)
        mask[1, :PAD] = 0
        ids[1, :PAD] = 0
        pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        save_file({"input_ids": ids, "attention_mask": mask, "position_ids": pos.contiguous()},
                  os.path.join(d, "inputs.safetensors"))
        for dtype, tag in ((torch.float32, "fp32"), (torch.float16, "fp16")):
            m = model.to(device=device, dtype=dtype)
            with torch.no_grad():
                logits = m(input_ids=ids.to(device), attention_mask=mask.to(device),
                           position_ids=pos.to(device)).logits.float().cpu()
            save_file({"logits": logits.contiguous()}, os.path.join(d, f"ref_{tag}.safetensors"))
        print(f"{name}: {sum(p.numel() for p in model.parameters())/1e6:.1f}M params -> {d}")


def rel_err(a, b, mask):
    keep = mask.bool()[..., None].expand_as(b)
    return ((a - b).abs()[keep].max() / b.abs()[keep].max()).item()


def compare(out, table):
    rows = []
    for name in sorted(os.listdir(out)):
        d = os.path.join(out, name)
        if not os.path.isfile(os.path.join(d, "ref_fp32.safetensors")):
            continue
        mask = load_file(os.path.join(d, "inputs.safetensors"))["attention_mask"]
        ref32 = load_file(os.path.join(d, "ref_fp32.safetensors"))["logits"]
        ref16 = load_file(os.path.join(d, "ref_fp16.safetensors"))["logits"]
        row = dict(model=name, hf_fp16_vs_hf_fp32=rel_err(ref16, ref32, mask))
        for tag, limit in (("fp32", 1e-4), ("fp16", 1e-2)):
            f = os.path.join(d, f"ours_{tag}.safetensors")
            if os.path.isfile(f):
                err = rel_err(load_file(f)["logits"], ref32, mask)
                row[f"ours_{tag}_vs_hf_fp32"] = err
                row[f"ours_{tag}_ok"] = err < limit
        rows.append(row)
    lines = [
        "# Logits: loraflow (Java/DJL) vs HF transformers, same random weights",
        "",
        f"Host: {platform.node()}, torch {torch.__version__}, "
        f"{torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'}. "
        f"Batch {BATCH} x {SEQ} tokens, row 1 left padded by {PAD}; error = max|ours - ref| / max|ref| "
        "over real tokens, ref = transformers fp32. Targets: fp32 < 1e-4, fp16 < 1e-2.",
        "",
        "| model | ours fp32 | ours fp16 | transformers fp16 (context) |",
        "|---|---|---|---|",
    ]
    fmt = lambda r, k: (f"{r[k]:.2e}" + ("" if r.get(k.replace('_vs_hf_fp32', '_ok'), True) else " FAIL")) if k in r else "—"
    for r in rows:
        lines.append(f"| {r['model']} | {fmt(r, 'ours_fp32_vs_hf_fp32')} | {fmt(r, 'ours_fp16_vs_hf_fp32')} "
                     f"| {r['hf_fp16_vs_hf_fp32']:.2e} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if table:
        os.makedirs(os.path.dirname(table) or ".", exist_ok=True)
        with open(table, "w") as f:
            f.write(text)
        with open(os.path.splitext(table)[0] + ".json", "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["make", "compare"])
    ap.add_argument("--out", default="bench/out/logits")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--table")
    ap.add_argument("--only", help="make only configs whose name contains this (e.g. tiny)")
    a = ap.parse_args()
    make(a.out, a.device, a.only) if a.cmd == "make" else compare(a.out, a.table)
