"""torch.optim.AdamW trajectory for AdamWTest: a (64, 80) parameter (5120 elements, so the 8-bit
path applies) updated 5 times with fixed gradients; lr 1e-2, betas (0.9, 0.999), eps 1e-8,
weight_decay 0.01.

Run: ~/.cache/loraflow/refpy/bin/python worker-gpu/src/test/python/adamw_reference.py \
        worker-gpu/src/test/resources/train/adamw_reference.safetensors
"""
import sys

import torch
from safetensors.torch import save_file

g = torch.Generator().manual_seed(3)
p0 = torch.randn(64, 80, generator=g) * 0.1
grads = [torch.randn(64, 80, generator=g) * (0.01 * (i + 1)) for i in range(5)]
p = torch.nn.Parameter(p0.clone())
opt = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
out = {"p0": p0}
for i, gr in enumerate(grads):
    p.grad = gr.clone()
    opt.step()
    out[f"grad{i}"] = gr
    out[f"p{i + 1}"] = p.detach().clone()
save_file(out, sys.argv[1])
