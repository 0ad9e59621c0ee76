"""Dev-time fixture: reference ROUGE-L (Google's rouge-score), SQuAD v2.0 token F1 / exact match
(the official evaluation script's functions, copied below) and a token-weighted eval loss (torch)
for ScoringTest.

  ~/.cache/loraflow/refpy/bin/pip install rouge-score
  ~/.cache/loraflow/refpy/bin/python activities/src/test/python/make_scoring_fixture.py
"""
import collections, json, pathlib, re, string

import torch
from rouge_score import rouge_scorer

OUT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "fixtures" / "scoring-reference.json"


# --- official SQuAD v2.0 evaluate-v2.0.py ---
def normalize_answer(s):
    def remove_articles(text):
        regex = re.compile(r"\b(a|an|the)\b", re.UNICODE)
        return re.sub(regex, " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def get_tokens(s):
    if not s:
        return []
    return normalize_answer(s).split()


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks = get_tokens(a_gold)
    pred_toks = get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


pairs = [
    ("Standard shipping takes 3 to 5 business days.", "Standard shipping takes 3 to 5 business days."),
    ("Standard shipping takes 3 to 5 business days.", "Shipping usually takes about 5 days."),
    ("You can return most items within 30 days of delivery.", "Returns are accepted for 30 days."),
    ("The Express option costs $14.95!", "express option: costs $14.95"),
    ("We accept Visa, Mastercard and PayPal.", "I'm sorry, I don't know."),
    ("An apple a day keeps the doctor away", "the apple keeps a doctor away"),
    ("Café crème — 2x größer, naïve façade", "cafe creme 2x grosser naive facade"),
    ("", "anything"),
    ("the a an", ""),
    ("a b a b a", "b a b"),
    ("Call 1-800-555-0142, Monday to Friday 8 a.m. to 8 p.m.", "call 1 800 555 0142 monday friday"),
    ("It's free on orders of $49 or more (after discounts).", "Its free on orders of 49 or more after discounts"),
    ("multi\nline\tanswer   here", "Multi line answer here."),
]
scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
cases = []
for ref, pred in pairs:
    s = scorer.score(ref, pred)["rougeL"]
    cases.append(
        {
            "reference": ref,
            "prediction": pred,
            "rougeL_precision": s.precision,
            "rougeL_recall": s.recall,
            "rougeL_f": s.fmeasure,
            "token_f1": float(compute_f1(ref, pred)),
            "exact_match": float(compute_exact(ref, pred)),
            "normalized_reference": normalize_answer(ref),
        }
    )

# eval loss: 3 batches of different sizes and masks; HF reports a per-batch mean
g = torch.Generator().manual_seed(7)
batches, all_logits, all_labels = [], [], []
for n, masked in [(11, 4), (5, 0), (23, 17)]:
    logits = torch.randn(n, 50, generator=g)
    labels = torch.randint(0, 50, (n,), generator=g)
    labels[:masked] = -100
    batches.append(
        {
            "mean_loss": torch.nn.functional.cross_entropy(logits, labels, ignore_index=-100).item(),
            "tokens": int((labels != -100).sum()),
        }
    )
    all_logits.append(logits)
    all_labels.append(labels)
overall = torch.nn.functional.cross_entropy(torch.cat(all_logits), torch.cat(all_labels), ignore_index=-100).item()
OUT.write_text(
    json.dumps(
        {"cases": cases, "eval_loss": {"batches": batches, "mean": overall, "perplexity": float(torch.exp(torch.tensor(overall, dtype=torch.float64)))}},
        indent=1,
        ensure_ascii=False,
    )
)
print(json.dumps(cases[:3], indent=1), overall)
