"""Dump the reader's sentence features on SQuAD v1.1 *train* questions, to fit its weights.

Usage: python bench/fit_reader.py [--articles 16] [--questions 4000] [--negatives 1000]
Writes bench/out/fit/features.npz: one row per candidate sentence, with the question it belongs to,
whether it holds a gold answer, and whether the question's article is indexed at all.
Dev data is never used here, so `qa eval` on SQuAD dev stays an honest held-out measure.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from pathlib import Path

import numpy as np

from qa import Answerer, build_index

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad-v1.1-train.reconstructed.json.gz"


def train_split(articles: int, rng: random.Random | None = None) -> tuple[list[dict], list[dict]]:
    """The fitting articles (indexed) and 40 others (their questions are the negatives): one fixed split,
    shared by bench/fit_span_confidence.py."""
    data = json.load(gzip.open(TRAIN))["data"]
    order = list(range(len(data)))
    (rng or random.Random(0)).shuffle(order)
    return [data[i] for i in order[:articles]], [data[i] for i in order[articles : articles + 40]]


def squad_questions(articles: list[dict], in_index: int) -> list[tuple[str, list[str], int]]:
    return [(qa["question"], [a["text"] for a in qa["answers"]], in_index) for art in articles
            for p in art["paragraphs"] for qa in p["qas"]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=16)
    ap.add_argument("--questions", type=int, default=4000)
    ap.add_argument("--negatives", type=int, default=1000)
    ap.add_argument("--solo", type=int, default=0, help="also embed the sentences alone for N questions")
    ap.add_argument("--out", default="bench/out/fit")
    args = ap.parse_args()
    out = Path(args.out)
    rng = random.Random(0)
    indexed, others = train_split(args.articles, rng)  # rng goes on to sample the questions

    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for n, art in enumerate(indexed):
        text = "\n\n".join(p["context"] for p in art["paragraphs"])
        (docs / f"{n:03d}_{re.sub(r'[^A-Za-z0-9]+', '_', art['title'])[:40]}.txt").write_text(text)
    build_index(docs, out / "index")
    answerer = Answerer(out / "index", reader="heuristic")  # these features feed the sentence ranker

    pos_q = squad_questions(indexed, 1)
    neg_q = squad_questions(others, 0)
    rng.shuffle(pos_q)
    rng.shuffle(neg_q)
    questions = pos_q[: args.questions] + neg_q[: args.negatives]

    rows, qids, labels, inidx, spans_ok, kinds, solo = [], [], [], [], [], [], []
    from tqdm import tqdm

    for qid, (question, golds, in_index) in enumerate(tqdm(questions)):
        reading = answerer.read(question, k=5, mode="hybrid").reading
        if qid < args.solo and reading.ranked:  # analysis: the sentences embedded on their own
            texts = [s.text for s in reading.ranked]
            qv = answerer.embedder.encode_queries([question])[0]
            solo.extend((answerer.embedder.encode_queries(texts) @ qv).tolist())
        else:
            solo.extend([np.nan] * len(reading.ranked))
        for s in reading.ranked:
            sentence = s.text
            rows.append(s.features)
            qids.append(qid)
            labels.append(int(in_index and any(g in sentence for g in golds)))
            inidx.append(in_index)
            kinds.append(reading.kind or "")
        if reading.sentence is not None:
            spans_ok.append((qid, reading.text, json.dumps(golds)))
    np.savez(out / "features.npz", X=np.array(rows), qid=np.array(qids), y=np.array(labels),
             in_index=np.array(inidx), kind=np.array(kinds), solo=np.array(solo))
    (out / "answers.json").write_text(json.dumps(spans_ok))
    print("rows", len(rows), "questions", len(questions))


if __name__ == "__main__":
    main()
