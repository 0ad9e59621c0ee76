"""Reference NF4 + double-quantization fixtures for Nf4QuantizerTest.

bitsandbytes needs CUDA to install here, so this reimplements its *reference* kernels (the pure
torch "default" backend of bitsandbytes >= 0.46: quantize_4bit, quantize_blockwise,
dequantize_blockwise) and functional.create_dynamic_map line by line, with the NF4 table of
functional.get_4bit_type("nf4").

Run with the dev-only reference venv:
  ~/.cache/loraflow/refpy/bin/python worker-gpu/src/test/python/nf4_reference.py \
      worker-gpu/src/test/resources/quant/nf4_reference.safetensors
"""

import sys

import torch
from safetensors.torch import save_file

NF4 = torch.tensor([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
])


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    # bitsandbytes/functional.py
    data = []
    non_sign_bits = total_bits - 1
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(
            2 ** (i + non_sign_bits - max_exponent_bits) + 1
            if signed
            else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1,
        )
        boundaries = torch.linspace(0.1, 1, fraction_items, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    if additional_items > 0:
        boundaries = torch.linspace(0.1, 1, additional_items + 1, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 2 ** total_bits
    gap = 256 - len(data)
    for i in range(gap):
        data.append(0)
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


def quantize_4bit(A, blocksize=64):
    # bitsandbytes/backends/default/ops.py quantize_4bit (quant_type nf4, storage uint8)
    n = A.numel()
    full_blocks = n // blocksize
    rem = n % blocksize
    blocks = full_blocks + 1 if rem else full_blocks
    absmax = torch.zeros((blocks,), dtype=torch.float32)
    A_flattened = A.reshape(n)
    A_full_blocks = A_flattened[: n - rem].reshape(n // blocksize, blocksize)
    absmax[:full_blocks] = torch.abs(A_full_blocks).max(dim=-1)[0]
    scaled = torch.clamp(A_full_blocks * (1 / absmax[:full_blocks].view(-1, 1)), -1, 1).reshape(-1)
    if rem:
        A_rem = A_flattened[-rem:]
        absmax[-1] = torch.abs(A_rem).max()
        scaled_rem = torch.clamp(A_rem * (1 / absmax[-1]), -1, 1)
        scaled = torch.cat([scaled, scaled_rem], dim=0)
    code = NF4.to(scaled.dtype)
    if scaled.numel() % 2 != 0:
        scaled = torch.nn.functional.pad(scaled, (0, 1), value=0.0)
    quantized = torch.argmin(torch.abs(scaled.view(-1, 1) - code), dim=-1, keepdim=True).to(torch.uint8)
    packed = quantized[::2] << 4 | quantized[1::2]
    return packed.reshape(-1), absmax.float()


def quantize_blockwise(A, code, blocksize):
    # bitsandbytes/backends/default/ops.py quantize_blockwise
    n = A.numel()
    rem = n % blocksize
    has_rem = rem > 0
    blocks = n // blocksize + has_rem
    absmax = torch.zeros((blocks,), dtype=torch.float32)
    A_reshaped = A.reshape(n)
    A_com = A_reshaped[: n - rem]
    A_com_reshaped = A_com.reshape(n // blocksize, blocksize)
    absmax[: blocks - has_rem] = torch.abs(A_com_reshaped).max(dim=-1)[0]
    scaled_A = torch.clamp(A_com_reshaped * (1 / absmax[: blocks - has_rem].view(-1, 1)), -1, 1)
    scaled_A = scaled_A.reshape(-1)
    if has_rem:
        absmax[-1] = torch.abs(A_reshaped[n - rem:]).max()
        scaled_A_rem = torch.clamp(A_reshaped[n - rem:] * (1 / absmax[-1]), -1, 1)
        scaled_A = torch.cat([scaled_A, scaled_A_rem], dim=0)
    diff = torch.abs(scaled_A.unsqueeze(-1) - code)
    out = torch.argmin(diff, dim=-1).to(torch.uint8).reshape(A.shape)
    return out, absmax


def dequantize_blockwise(A, absmax, code, blocksize):
    out = code[A.reshape(-1).int()]
    blocks = out.shape[-1] // blocksize
    res = out.shape[-1] % blocksize
    if res != 0:
        out = torch.nn.functional.pad(out, (0, blocksize - res), mode="constant", value=0)
    out = (out.view(-1, blocksize) * absmax.view(-1, 1)).reshape(-1)
    return out[: blocks * blocksize + res]


def dequantize_4bit(packed, absmax, n, blocksize=64):
    out_dq = torch.empty(packed.numel() * 2, dtype=torch.int32)
    out_dq[1::2] = packed & 0xF
    out_dq[::2] = packed >> 4
    vals = NF4[out_dq][:n]
    return (vals.view(-1, blocksize) * absmax.view(-1, 1)).reshape(-1)


def main(path):
    g = torch.Generator().manual_seed(1234)
    cases = {
        # plain gaussian, 300 blocks -> second level has a partial block of 44
        "gauss": torch.randn(96, 200, generator=g) * 0.02,
        # heavy tails and a scale that varies by row
        "heavy": (torch.randn(64, 128, generator=g) ** 3) * torch.linspace(0.001, 3.0, 64).view(-1, 1),
        # fp16 input, as a checkpoint would give it
        "half": (torch.randn(32, 64, generator=g) * 0.1).half(),
    }
    tensors = {"dynamic_map_signed": create_dynamic_map(True), "dynamic_map_unsigned": create_dynamic_map(False)}
    for name, w in cases.items():
        packed, absmax = quantize_4bit(w)
        offset = absmax.mean()
        qabsmax, absmax2 = quantize_blockwise(absmax - offset, create_dynamic_map(True), 256)
        absmax_dq = dequantize_blockwise(qabsmax, absmax2, create_dynamic_map(True), 256) + offset
        tensors[f"{name}.weight"] = w
        tensors[f"{name}.packed"] = packed
        tensors[f"{name}.absmax"] = absmax
        tensors[f"{name}.dq_codes"] = qabsmax
        tensors[f"{name}.dq_absmax2"] = absmax2
        tensors[f"{name}.dq_offset"] = offset.reshape(1)
        tensors[f"{name}.dq_absmax"] = absmax_dq
        tensors[f"{name}.dequant"] = dequantize_4bit(packed, absmax_dq, w.numel()).reshape(w.shape)
    save_file({k: v.contiguous() for k, v in tensors.items()}, path)


if __name__ == "__main__":
    main(sys.argv[1])
