"""Fit the trained reader's confidence (``qa/models/confidence.json``) from signals that carry across domains.

For each question it asks the engine (``Answerer.read``, hybrid, the shipped k and retrieval settings),
records ``qa.answer.confidence.answer_features`` of the answer it would give and whether that answer is
right (F1 >= 0.5 against the gold answers), then fits a logistic regression (Platt scaling over
several signals) on:

- SQuAD v1.1 *train*: questions of the 60 articles indexed by ``bench/fusion.py --articles 60`` (its
  scratch folder), plus questions of 40 other train articles that are not indexed (their answers are
  never right: the negatives);
- squadshifts-amazon: questions *outside* the ``qa eval --limit 1000 --seed 0`` sample, asked over the
  ``qa eval --index-dir`` scratch index of that set, so the reported amazon figures stay held out.

Usage:
  .venv/bin/python bench/fit_confidence.py --train-dir /tmp/work/train60 --amazon-dir /tmp/work/amazon \\
        [--train-questions 1500 --negatives 500 --amazon-questions 1500] [--write]
``--write`` writes qa/models/confidence.json; without it the fit is only reported.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from qa.answer.confidence import (
    ANSWER_FEATURES,
    CALIBRATION,
    LogisticCalibration,
    answer_features,
)
from qa.answer.pipeline import Answerer
from qa.evaluation.calibration import calibration_report
from qa.evaluation.metrics import f1
from qa.evaluation.squad import load_squad, sample_questions
from qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TRAIN = DATA / "squad-v1.1-train.reconstructed.json.gz"
AMAZON = DATA / "squadshifts-amazon.json.gz"


def collect(answerer: Answerer, questions: list[tuple[str, list[str], bool]], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (1: the answer it would give is right) of the questions that got a span."""
    from tqdm import tqdm

    rows, labels = [], []
    for text, golds, answerable in tqdm(questions, desc=name, file=sys.stderr, mininterval=2):
        trace = answerer.read(text, k=answerer.settings.k, mode="hybrid")
        x = answer_features(trace.reading, trace.candidates[: answerer.settings.k])
        if x is None:
            continue
        rows.append(x)
        labels.append(int(answerable and f1(trace.reading.text, golds) >= 0.5))
    return np.array(rows), np.array(labels)


def train_questions(articles: int, n_pos: int, n_neg: int, seed: int) -> list[tuple[str, list[str], bool]]:
    """Questions of the ``articles`` train articles ``bench/fusion.py --articles`` indexed (same seed), and of
    40 articles it did not index (never answerable there)."""
    from fusion import subset

    squad = load_squad(TRAIN)
    indexed = {t for t in subset(load_squad(TRAIN), articles, seed).titles}
    rng = random.Random(seed)
    pos = [q for q in squad.questions if squad.titles[q.paragraph.article] in indexed]
    others = sorted({squad.titles[q.paragraph.article] for q in squad.questions} - indexed)
    rng.shuffle(others)
    negative_titles = set(others[:40])
    neg = [q for q in squad.questions if squad.titles[q.paragraph.article] in negative_titles]
    rng.shuffle(pos)
    rng.shuffle(neg)
    return ([(q.question, q.answers, True) for q in pos[:n_pos]]
            + [(q.question, q.answers, False) for q in neg[:n_neg]])


def amazon_questions(n: int, seed: int) -> list[tuple[str, list[str], bool]]:
    squad = load_squad(AMAZON)
    held_out = {q.id for q in sample_questions(squad.questions, 1000, 0)}  # the qa eval sample
    rest = [q for q in squad.questions if q.id not in held_out]
    random.Random(seed).shuffle(rest)
    return [(q.question, q.answers, True) for q in rest[:n]]


def fit(X: np.ndarray, y: np.ndarray) -> dict:
    from sklearn.linear_model import LogisticRegression

    X = np.where(np.isnan(X), np.nanmean(X, axis=0), X)  # a retriever with nothing to rank: average
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=1.0, max_iter=1000).fit((X - mean) / scale, y)
    return {"features": list(ANSWER_FEATURES), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
            "weights": clf.coef_[0].round(6).tolist(), "bias": round(float(clf.intercept_[0]), 6)}


def report(model: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """In-sample calibration, with the confidence the engine computes (``LogisticCalibration``: an unknown
    signal counts as average)."""
    from qa.answer.confidence import LogisticCalibration

    calibration = LogisticCalibration(tuple(model["features"]), np.array(model["mean"]), np.array(model["scale"]),
                                      np.array(model["weights"]), model["bias"])
    p = np.array([calibration(x) for x in X])
    r = calibration_report(p.tolist(), y.astype(bool).tolist(), [True] * len(y))
    return {k: r[k] for k in ("ece", "aurc", "answered_accuracy")} | {"questions": len(y)}


def engine_key(folder: Path, args) -> str:
    """What the recorded signals depend on: the question path's code and models, the index, the sample.
    (A cache made by another reader or other windows must not be fitted on: it once was, silently.)"""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "qa" / "answer").glob("*.py")) + [
            ROOT / "qa" / "models" / "onnx" / "manifest.json", ROOT / "qa" / "models" / "sentence-ranker.json"]:
        h.update(path.read_bytes())
    h.update(json.dumps([str(Path(folder).resolve()), args.articles, args.train_questions, args.negatives,
                         args.amazon_questions, args.seed]).encode())
    return h.hexdigest()[:12]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-dir", type=Path, required=True)
    ap.add_argument("--amazon-dir", type=Path, required=True)
    ap.add_argument("--articles", type=int, default=60, help="as given to bench/fusion.py")
    ap.add_argument("--train-questions", type=int, default=1500)
    ap.add_argument("--negatives", type=int, default=500)
    ap.add_argument("--amazon-questions", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "confidence")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sets = {}
    for name, folder, questions in (
        ("squad-train", args.train_dir, lambda: train_questions(args.articles, args.train_questions, args.negatives,
                                                                 args.seed)),
        ("amazon", args.amazon_dir, lambda: amazon_questions(args.amazon_questions, args.seed)),
    ):
        cache = args.out / f"{name}-{engine_key(folder, args)}.npz"
        if cache.exists():
            data = np.load(cache)
            sets[name] = (data["X"], data["y"])
            continue
        # the signals do not need a calibration (and the shipped one may be for other signals)
        with mock.patch.object(LogisticCalibration, "load", return_value=None):
            answerer = Answerer(folder / "index", settings=Settings.from_env(reader="trained"))
        X, y = collect(answerer, questions(), name)
        np.savez(cache, X=X, y=y)
        sets[name] = (X, y)
    X = np.concatenate([s[0] for s in sets.values()])
    y = np.concatenate([s[1] for s in sets.values()])
    model = fit(X, y)
    print(json.dumps({name: report(model, *s) for name, s in sets.items()}))
    print(json.dumps(dict(zip(model["features"], model["weights"]))))
    if args.write:
        model["fitted_by"] = ("python bench/fit_confidence.py --train-dir DIR --amazon-dir DIR --write "
                              f"(--articles {args.articles} --train-questions {args.train_questions} --negatives {args.negatives} "
                              f"--amazon-questions {args.amazon_questions} --seed {args.seed})")
        model["data"] = {name: {"questions": len(s[1]), "right": int(s[1].sum())} for name, s in sets.items()}
        CALIBRATION.write_text(json.dumps(model, indent=1) + "\n")
        print(f"wrote {CALIBRATION}")


if __name__ == "__main__":
    main()
