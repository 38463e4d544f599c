"""The span reader alone, its passage given: SQuAD v1.1 dev EM / F1 with the gold paragraph (as
``qa train-reader --eval`` scores it), and on SQuAD 2.0 dev whether it says "this passage does not
answer" (its [CLS] score beats its best span) for the questions the paragraph cannot answer and for
those it can.

    .venv/bin/python bench/reader_gold.py [--weights DIR ...] [--limit 2000] [--json] [--card]

``--card`` records the SQuAD v1.1 score in each reader's model card (training.json and README.md), for a
reader trained without ``--eval``.

Default weights: the shipped reader (qa/models/span-reader). Torch, float32, 384 word pieces with a
stride of 128, as the reader was trained and scored; one thread unless OMP_NUM_THREADS says more.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def score(weights: Path, limit: int | None) -> dict:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa.inference.model_files import embedder_weights
    from qa.training.span_reader import load_squad, predict, squad_scores

    tokenizer = AutoTokenizer.from_pretrained(str(embedder_weights()))
    model = AutoModelForQuestionAnswering.from_pretrained(str(weights), dtype=torch.float32)
    device = torch.device("cpu")
    out: dict = {"weights": str(weights)}
    t0 = time.time()
    dev = load_squad(DATA / "squad-v1.1-dev.json.gz", limit, 0)
    preds = predict(model, tokenizer, dev, 384, 128, 64, device)
    scores = squad_scores(dev, preds)
    out["squad_v1"] = {"questions": len(dev), "em": round(scores["em"], 4), "f1": round(scores["f1"], 4),
                       "says_no_answer": round(float(np.mean([p["null"] > p["score"] for p in preds])), 4)}
    v2 = load_squad(DATA / "squad-v2.0-dev.json.gz", limit, 0)
    preds = predict(model, tokenizer, v2, 384, 128, 64, device)
    no = np.array([p["null"] > p["score"] for p in preds])
    impossible = np.array([ex["impossible"] for ex in v2])
    margin = np.array([p["score"] - p["null"] for p in preds])
    out["squad_v2"] = {"questions": len(v2), "unanswerable": int(impossible.sum()),
                       "no_answer_recall": round(float(no[impossible].mean()), 4),
                       "no_answer_on_answerable": round(float(no[~impossible].mean()), 4),
                       "margin_auc": round(auc(margin[~impossible], margin[impossible]), 4)}
    out["seconds"] = round(time.time() - t0, 1)
    return out


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """The chance that an answerable question's margin beats an unanswerable one's (ties count half)."""
    pos, neg = np.sort(pos), np.sort(neg)
    below = np.searchsorted(neg, pos, side="left")
    equal = np.searchsorted(neg, pos, side="right") - below
    return float((below + equal / 2).sum() / (len(pos) * len(neg)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, nargs="+", default=[ROOT / "qa" / "models" / "span-reader"])
    ap.add_argument("--limit", type=int, default=2000, help="questions per set (random, seed 0); 0: all")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--card", action="store_true", help="write the SQuAD v1.1 score into the model card")
    args = ap.parse_args()
    for w in args.weights:
        result = score(w, args.limit or None)
        print(json.dumps(result) if args.json else json.dumps(result, indent=1))
        sys.stdout.flush()
        if args.card:
            write_card(w, result["squad_v1"])


def write_card(weights: Path, squad_v1: dict) -> None:
    from qa.training.span_reader import model_card

    card = json.loads((weights / "training.json").read_text())
    card["eval"] = {"data": "squad-v1.1-dev.json.gz", "em": squad_v1["em"], "f1": squad_v1["f1"],
                    "questions": squad_v1["questions"]}
    (weights / "training.json").write_text(json.dumps(card, indent=2))
    (weights / "README.md").write_text(model_card(card))


if __name__ == "__main__":
    main()
