"""Training data for a span reader that can say "this passage does not answer": SQuAD v1.1 train plus
negatives, in SQuAD 2.0 format for ``qa train-reader``.

For every question it adds up to ``--hard`` paragraphs that look like they answer but do not (the best
TF-IDF match and the best dense match among the other paragraphs of the corpus that hold none of its
gold answer texts) and, with probability ``--random``, one random paragraph, each as an impossible
question (``is_impossible``: the reader learns to point at [CLS], as SQuAD 2.0 readers are trained).

    .venv/bin/python bench/make_negatives.py ../shared/data/squad-v1.1-train.reconstructed.json.gz \\
        --out bench/out/squad-train-negatives.json.gz [--hard 2] [--random 0.3] [--limit N]
    qa train-reader bench/out/squad-train-negatives.json.gz --out DIR --eval ../shared/data/squad-v1.1-dev.json.gz

Dense vectors come from the shipped all-MiniLM-L6-v2 (on a GPU when there is one: about a minute for
the 18,896 train paragraphs there, ~15 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

import numpy as np


def load(path: str) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)["data"]


def paragraphs_and_questions(data: list[dict]) -> tuple[list[str], list[tuple[int, dict]]]:
    contexts, questions = [], []
    for article in data:
        for para in article["paragraphs"]:
            contexts.append(para["context"])
            questions.extend((len(contexts) - 1, qa) for qa in para["qas"])
    return contexts, questions


def lexical_neighbours(contexts: list[str], texts: list[str], top: int) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2)
    P = vec.fit_transform(contexts)
    Q = vec.transform(texts)
    out = np.zeros((len(texts), top), dtype=np.int64)
    for start in range(0, len(texts), 2048):
        sims = (Q[start : start + 2048] @ P.T).toarray()
        out[start : start + 2048] = np.argsort(-sims, axis=1)[:, :top]
    return out


def dense_neighbours(contexts: list[str], texts: list[str], top: int) -> np.ndarray:
    import torch
    from sentence_transformers import SentenceTransformer

    from qa.inference.model_files import embedder_weights

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = SentenceTransformer(str(embedder_weights()), device=device)
    P = model.encode(contexts, batch_size=256, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=True)
    Q = model.encode(texts, batch_size=512, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=True)
    out = np.zeros((len(texts), top), dtype=np.int64)
    for start in range(0, len(texts), 4096):
        out[start : start + 4096] = np.argsort(-(Q[start : start + 4096] @ P.T), axis=1)[:, :top]
    return out


def negatives_for(i: int, own: int, golds: list[str], contexts: list[str], ranked: list[np.ndarray],
                  hard: int) -> list[int]:
    """The best-ranked paragraphs of each list that are not the question's own and hold no gold answer."""
    picked: list[int] = []
    for ranking in ranked:
        for p in ranking[i]:
            p = int(p)
            if p != own and p not in picked and not any(g and g in contexts[p] for g in golds):
                picked.append(p)
                break
    return picked[:hard]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hard", type=int, default=2, help="hard negatives per question (lexical, then dense)")
    ap.add_argument("--random", type=float, default=0.3, help="chance of one random negative per question")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions (smoke runs)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    data = load(args.data)
    contexts, questions = paragraphs_and_questions(data)
    questions = questions[: args.limit] if args.limit else questions
    texts = [qa["question"] for _, qa in questions]
    ranked = [lexical_neighbours(contexts, texts, 10)]
    if args.hard > 1:
        ranked.append(dense_neighbours(contexts, texts, 10))
    negatives: dict[int, list[dict]] = {}
    for i, (own, qa) in enumerate(questions):
        golds = [a["text"] for a in qa["answers"]]
        picks = negatives_for(i, own, golds, contexts, ranked, args.hard)
        if rng.random() < args.random:
            picks.append(rng.randrange(len(contexts)))
        for n, p in enumerate(picks):
            if p != own and not any(g in contexts[p] for g in golds):
                negatives.setdefault(p, []).append({"id": f"{qa['id']}-neg{n}", "question": qa["question"],
                                                    "answers": [], "is_impossible": True})
    kept = {own for own, _ in questions}
    out_data = [{"title": a["title"], "paragraphs": [p for p in a["paragraphs"]]} for a in data] if not args.limit \
        else [{"title": "subset", "paragraphs": [{"context": contexts[c], "qas": [qa for o, qa in questions if o == c]}
                                                 for c in sorted(kept)]}]
    out_data.append({"title": "negatives", "paragraphs": [{"context": contexts[p], "qas": qs}
                                                          for p, qs in sorted(negatives.items())]})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        json.dump({"version": "squad-v1.1-train+negatives", "data": out_data}, f)
    n_neg = sum(len(v) for v in negatives.values())
    print(f"{len(questions)} questions, {n_neg} negatives on {len(negatives)} paragraphs -> {args.out}")


if __name__ == "__main__":
    main()
