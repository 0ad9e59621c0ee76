"""Greedy generation speed of HF transformers' generate(), the reference for GenerationBench.

Same prompt ids as io.loraflow.engine.model.bench.GenerationBench:
    3 + (j * 7919 + b * 104729) % (min(V, 32000) - 3)
EOS disabled (min_new_tokens = max_new_tokens), greedy, KV cache on, one warm-up run.

    python bench/model/generate_speed.py --model DIR [--gguf FILE.gguf] [--device cpu|cuda]
        [--dtype fp32|fp16] [--batch 1] [--prompt-len 32] [--new 64] [--runs 3] [--threads N]
"""
import argparse
import json
import os
import time

import torch
from transformers import AutoModelForCausalLM


def prompt_ids(b, length, vocab):
    return [3 + (j * 7919 + b * 104729) % (min(vocab, 32000) - 3) for j in range(length)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="HF dir, or the directory of --gguf")
    ap.add_argument("--gguf", help="GGUF file name inside --model (transformers dequantizes it)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = default)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dtype = a.dtype or ("fp16" if a.device == "cuda" else "fp32")
    torch_dtype = torch.float16 if dtype == "fp16" else torch.float32
    t0 = time.perf_counter()
    kwargs = dict(dtype=torch_dtype)
    if a.gguf:
        kwargs["gguf_file"] = a.gguf
    model = AutoModelForCausalLM.from_pretrained(a.model, **kwargs).to(a.device).eval()
    load = time.perf_counter() - t0
    vocab = model.config.vocab_size
    ids = torch.tensor([prompt_ids(b, a.prompt_len, vocab) for b in range(a.batch)], device=a.device)
    mask = torch.ones_like(ids)

    def run(n):
        if a.device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(
                ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                pad_token_id=0, use_cache=True,
            )
        if a.device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start, out

    run(4)  # warm-up
    best = 0.0
    for r in range(a.runs):
        seconds, out = run(a.new)
        generated = (out.shape[1] - a.prompt_len) * a.batch
        tps = generated / seconds
        best = max(best, tps)
        print(json.dumps(dict(engine="transformers", run=r, batch=a.batch, prompt_len=a.prompt_len,
                              new_tokens=a.new, seconds=round(seconds, 3), tokens_per_s=round(tps, 2))))
    name = os.path.basename(a.gguf or a.model.rstrip("/"))
    print(f"transformers {name} {a.device} {dtype}: load {load:.1f} s, best {best:.2f} generated tokens/s "
          f"(batch {a.batch}, prompt {a.prompt_len}, new {a.new}, threads {torch.get_num_threads()})")
    print("greedy tokens of sequence 0:", out[0, a.prompt_len:a.prompt_len + 16].tolist())


if __name__ == "__main__":
    main()
