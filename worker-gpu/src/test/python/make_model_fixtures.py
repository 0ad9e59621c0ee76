"""Tiny random HF models + expected fp32 logits, the reference for our Java forward pass.

Run from the repository root with the reference venv (dev time only, results are committed):
    ~/.cache/loraflow/refpy/bin/python worker-gpu/src/test/python/make_model_fixtures.py

For each case writes worker-gpu/src/test/resources/models/<case>/:
  config.json, model.safetensors     (HF save_pretrained, fp32)
  expected.safetensors               input_ids (B,T) int64, attention_mask (B,T) int64 (left padding),
                                     position_ids (B,T) int64 (cumsum(mask)-1, pads at 1 as HF generate),
                                     logits (B,T,V) fp32, greedy_prompt (P) int64, greedy_tokens (N) int64
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (
    FalconConfig,
    FalconForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "models")
VOCAB = 128
SEQ = 10
PAD_LEFT = 3  # row 1 of the batch is left padded by this many tokens
NEW_TOKENS = 8

LLAMA_BASE = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=4,
    max_position_embeddings=64,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    tie_word_embeddings=False,
    bos_token_id=1,
    eos_token_id=2,
    pad_token_id=0,
)


def llama(**over):
    return LlamaForCausalLM, LlamaConfig(**{**LLAMA_BASE, **over})


def cases():
    yield "llama_mha", llama()
    yield "llama_gqa_bias_llama3", llama(
        num_attention_heads=8,
        num_key_value_heads=2,
        attention_bias=True,
        mlp_bias=True,
        rope_theta=500000.0,
        rope_scaling=dict(
            rope_type="llama3",
            factor=8.0,
            low_freq_factor=1.0,
            high_freq_factor=4.0,
            original_max_position_embeddings=16,
        ),
    )
    yield "llama_linear_rope", llama(rope_scaling=dict(rope_type="linear", factor=2.0))
    # max_position_embeddings 8 < SEQ so the dynamic NTK rescaling is active in this forward
    yield "llama_dynamic_rope", llama(
        max_position_embeddings=8, rope_scaling=dict(rope_type="dynamic", factor=2.0)
    )
    yield "smollm2_tied", llama(
        hidden_size=48,
        num_attention_heads=6,
        num_key_value_heads=2,
        intermediate_size=64,
        rope_theta=100000.0,
        tie_word_embeddings=True,
    )
    yield "qwen2_bias", (
        Qwen2ForCausalLM,
        Qwen2Config(
            vocab_size=VOCAB,
            hidden_size=64,
            intermediate_size=96,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=64,
            rms_norm_eps=1e-6,
            rope_theta=1000000.0,
            tie_word_embeddings=False,
            use_sliding_window=False,
            bos_token_id=1,
            eos_token_id=2,
        ),
    )
    yield "mistral_sliding", (
        MistralForCausalLM,
        MistralConfig(
            vocab_size=VOCAB,
            hidden_size=64,
            intermediate_size=96,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=64,
            sliding_window=4,
            tie_word_embeddings=False,
            bos_token_id=1,
            eos_token_id=2,
        ),
    )
    falcon_base = dict(
        vocab_size=VOCAB,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=8,
        layer_norm_epsilon=1e-5,
        alibi=False,
        rope_theta=10000.0,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=2,
    )
    # Falcon-7B layout: multi-query, parallel attention + MLP, one input_layernorm, no bias
    yield "falcon_7b", (
        FalconForCausalLM,
        FalconConfig(
            **falcon_base,
            multi_query=True,
            parallel_attn=True,
            new_decoder_architecture=False,
            bias=False,
        ),
    )
    # Falcon-40B/180B layout: grouped kv in query_key_value, ln_attn + ln_mlp
    yield "falcon_new_arch", (
        FalconForCausalLM,
        FalconConfig(
            **falcon_base,
            new_decoder_architecture=True,
            num_kv_heads=2,
            num_ln_in_parallel_attn=2,
            parallel_attn=True,
            bias=False,
        ),
    )
    # new decoder architecture with one shared layernorm and biases everywhere, untied head
    yield "falcon_new_arch_ln1_bias", (
        FalconForCausalLM,
        FalconConfig(
            **falcon_base,
            new_decoder_architecture=True,
            num_kv_heads=4,
            num_ln_in_parallel_attn=1,
            parallel_attn=True,
            bias=True,
            tie_word_embeddings=False,
        ),
    )
    # classic multi-head layout (per head [q, k, v]) with sequential attention -> MLP blocks
    yield "falcon_sequential_mha", (
        FalconForCausalLM,
        FalconConfig(
            **falcon_base,
            new_decoder_architecture=False,
            multi_query=False,
            parallel_attn=False,
            bias=True,
        ),
    )


def make(name, cls, config, seed):
    torch.manual_seed(seed)
    config._attn_implementation = "eager"
    model = cls(config).eval()
    # HF inits with std 0.02; widen so the logits are far from uniform and errors are visible
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n or "ln" in n:
                p.copy_(1.0 + 0.1 * torch.randn_like(p)) if n.endswith("weight") else p.normal_(0, 0.1)
            else:
                p.normal_(0, 0.08)
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)

    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(3, VOCAB, (2, SEQ), generator=g)
    mask = torch.ones(2, SEQ, dtype=torch.long)
    mask[1, :PAD_LEFT] = 0
    ids[1, :PAD_LEFT] = 0
    pos = mask.cumsum(-1) - 1
    pos = pos.masked_fill(mask == 0, 1)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
        prompt = ids[0, :6]
        gen = model.generate(
            prompt[None],
            attention_mask=torch.ones(1, 6, dtype=torch.long),
            max_new_tokens=NEW_TOKENS,
            do_sample=False,
            eos_token_id=None,
            pad_token_id=0,
        )[0, 6:]
    save_file(
        {
            "input_ids": ids.contiguous(),
            "attention_mask": mask.contiguous(),
            "position_ids": pos.contiguous(),
            "logits": logits.contiguous(),
            "greedy_prompt": prompt.clone(),
            "greedy_tokens": gen.contiguous(),
        },
        os.path.join(out, "expected.safetensors"),
    )
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"{name}: {size/1024:.0f} KiB, logits {tuple(logits.shape)}, greedy {gen.tolist()}")


def make_sampler_fixture():
    """HF logits processors on random scores: the reference for our host-side Sampler."""
    from transformers.generation.logits_process import (
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    g = torch.Generator().manual_seed(7)
    scores = torch.randn(1, 200, generator=g)
    seen = torch.tensor([[5, 17, 17, 42, 199, 0, 63]])
    penalized = RepetitionPenaltyLogitsProcessor(1.3)(seen, scores.clone())
    warped = TemperatureLogitsWarper(0.7)(seen, penalized.clone())
    warped = TopKLogitsWarper(40)(seen, warped)
    warped = TopPLogitsWarper(0.8)(seen, warped)
    out = os.path.join(ROOT, "..", "sampler_reference.safetensors")
    save_file(
        {"scores": scores[0].contiguous(), "seen": seen[0].contiguous(),
         "penalized": penalized[0].contiguous(), "warped": warped[0].contiguous()},
        out,
    )
    print("sampler reference: kept", int(torch.isfinite(warped).sum()), "of 200")


if __name__ == "__main__":
    only = set(sys.argv[1:])
    if not only or "sampler" in only:
        make_sampler_fixture()
    for i, (name, (cls, config)) in enumerate(cases()):
        if not only or name in only:
            make(name, cls, config, seed=1000 + i)
