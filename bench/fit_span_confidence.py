"""Fit the trained reader's confidence (Platt scaling) on SQuAD v1.1 *train* questions.

Usage: python bench/fit_span_confidence.py [--questions 1200] [--negatives 400]
Needs the index made by bench/fit_reader.py (bench/out/fit/index: 16 train articles). Questions from
other train articles are the negatives (the answer is not in the index). Prints the fitted
SPAN_CONFIDENCE for qa/reader.py and the share answered / correct at a few thresholds.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
from fit_reader import squad_questions, train_split
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from qa import Answerer
from qa.evaluation.metrics import exact_match, f1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=1200)
    ap.add_argument("--negatives", type=int, default=400)
    ap.add_argument("--articles", type=int, default=16)
    ap.add_argument("--out", default="bench/out/fit")
    args = ap.parse_args()
    indexed, others = train_split(args.articles)  # the split bench/fit_reader.py indexed
    pos, neg = squad_questions(indexed, 1), squad_questions(others, 0)
    random.Random(7).shuffle(pos)  # not the questions bench/fit_reader.py used first
    random.Random(7).shuffle(neg)
    answerer = Answerer(Path(args.out) / "index", reader="trained")
    rows = []
    for question, golds, in_index in tqdm(pos[: args.questions] + neg[: args.negatives]):
        reading = answerer.read(question, k=5, mode="hybrid").reading
        if reading.span_score is None:
            continue
        text = reading.text
        ok = in_index and f1(text, golds) >= 0.5
        rows.append((reading.span_score, reading.ranked[0].score, ok, in_index, exact_match(text, golds) * in_index))
    arr = np.array(rows, dtype=float)
    X, y, inidx = arr[:, :2], arr[:, 2], arr[:, 3]
    split = np.arange(len(arr)) % 3 != 0
    clf = LogisticRegression(C=100).fit(X[split], y[split])
    print("SPAN_CONFIDENCE =", (round(float(clf.intercept_[0]), 4), *(round(float(c), 4) for c in clf.coef_[0])))
    p = clf.predict_proba(X[~split])[:, 1]
    yt, it = y[~split], inidx[~split]
    for t in (0.2, 0.3, 0.4, 0.5):
        a = p >= t
        print(f"threshold {t}: answerable answered {a[it == 1].mean():.3f}, right and answered "
              f"{(a & (yt == 1))[it == 1].mean():.3f}, absent answered {a[it == 0].mean():.3f}, "
              f"precision {yt[a].mean():.3f}")
    np.save(Path(args.out) / "span_confidence.npy", arr)


if __name__ == "__main__":
    main()
