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

``--windows`` (the CPU recipe): instead of whole paragraphs, the examples are the *windows the engine's
reader reads at question time* (a sentence with its neighbours, at most 800 characters: see
``qa.answer.reader.window_bounds``), ~4x shorter than a paragraph, so a CPU trains on ~4x more questions
per hour. Per question: one window holding its answer; the window of its own paragraph that shares most
words with the question but holds no gold answer (the reader's usual mistake: the right topic, the wrong
sentence); with probability ``--hard-other``, the same from the best TF-IDF match among the other
paragraphs; with probability ``--random``, a random window of a random paragraph. ``--paragraphs N``
adds N more questions with their whole paragraph, so that long passages stay read as well as before.

    .venv/bin/python bench/make_negatives.py ../shared/data/squad-v1.1-train.reconstructed.json.gz \\
        --windows --limit 16000 --out bench/out/squad-train-windows.json.gz
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
            if p != own and p not in picked and not holds_gold(contexts[p], golds):
                picked.append(p)
                break
    return picked[:hard]


def reader_windows(context: str) -> list[tuple[int, int]]:
    """The (start, end) of each window the reader would read in ``context`` (``reader.window_bounds``
    around each sentence), without repeats."""
    from qa.answer.reader import window_bounds
    from qa.ingest.sentences import split_sentences

    spans = split_sentences(context)
    return list(dict.fromkeys(window_bounds(spans, j) for j in range(len(spans))))


def holds_gold(text: str, golds: list[str]) -> bool:
    return any(g and g in text for g in golds)


def _words(text: str) -> set[str]:
    from qa.ingest.lexical import query_terms

    return set(query_terms(text))


def closest_window(context: str, question_words: set[str], golds: list[str]) -> tuple[int, int] | None:
    """The window of ``context`` sharing most question words that holds none of the gold answer texts."""
    best, best_overlap = None, -1
    for a, b in reader_windows(context):
        text = context[a:b]
        if holds_gold(text, golds):
            continue
        overlap = len(question_words & _words(text))
        if overlap > best_overlap:
            best, best_overlap = (a, b), overlap
    return best


def window_examples(contexts: list[str], questions: list[tuple[int, dict]], lexical: np.ndarray, rng: random.Random,
                    hard_other: float, random_share: float) -> list[dict]:
    """SQuAD-format paragraphs, one per example: a window holding the answer, then negatives (see the top)."""
    out = []
    for i, (own, qa) in enumerate(questions):
        golds = [a["text"] for a in qa["answers"]]
        context, answer = contexts[own], qa["answers"][0]
        a_start, a_end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
        holding = [(a, b) for a, b in reader_windows(context) if a <= a_start and a_end <= b]
        if holding:
            a, b = rng.choice(holding)
            out.append({"context": context[a:b], "qas": [{
                "id": qa["id"], "question": qa["question"],
                "answers": [{"text": answer["text"], "answer_start": a_start - a}]}]})
        words = _words(qa["question"])
        sources = [(own, "in")]
        if rng.random() < hard_other:
            other = negatives_for(i, own, golds, contexts, [lexical], 1)
            sources += [(p, "other") for p in other]
        if rng.random() < random_share:
            sources.append((rng.randrange(len(contexts)), "random"))
        for p, kind in sources:
            if kind == "random":
                windows = [w for w in reader_windows(contexts[p]) if not holds_gold(contexts[p][w[0]:w[1]], golds)]
                window = rng.choice(windows) if windows and p != own else None
            else:
                window = closest_window(contexts[p], words, golds)
            if window is not None:
                out.append({"context": contexts[p][window[0]:window[1]], "qas": [{
                    "id": f"{qa['id']}-{kind}", "question": qa["question"], "answers": [], "is_impossible": True}]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hard", type=int, default=2, help="hard negatives per question (lexical, then dense)")
    ap.add_argument("--random", type=float, default=0.3, help="chance of one random negative per question")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions (smoke runs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--windows", action="store_true", help="reader windows instead of paragraphs (see above)")
    ap.add_argument("--hard-other", type=float, default=0.5,
                    help="--windows: chance of a negative window from another paragraph")
    ap.add_argument("--paragraphs", type=int, default=0,
                    help="--windows: also N other questions with their whole paragraph (keeps long passages read well)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    data = load(args.data)
    contexts, questions = paragraphs_and_questions(data)
    if args.windows:  # a random sample of questions (the first N would be a few articles only)
        rng.shuffle(questions)
    questions_all = questions
    questions = questions[: args.limit] if args.limit else questions
    texts = [qa["question"] for _, qa in questions]
    if args.windows:
        paragraphs = window_examples(contexts, questions, lexical_neighbours(contexts, texts, 10), rng,
                                     args.hard_other, args.random)
        whole = questions_all[len(questions) : len(questions) + args.paragraphs]
        paragraphs += [{"context": contexts[own], "qas": [qa]} for own, qa in whole]
        write(args.out, {"version": "squad-v1.1-train-reader-windows", "data": [{"title": "windows", "paragraphs": paragraphs}]})
        n_neg = sum(1 for p in paragraphs if p["qas"][0].get("is_impossible"))
        print(f"{len(questions)} questions -> {len(paragraphs) - n_neg} passages with the answer, {n_neg} negative windows -> {args.out}")
        return
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
    write(args.out, {"version": "squad-v1.1-train+negatives", "data": out_data})
    n_neg = sum(len(v) for v in negatives.values())
    print(f"{len(questions)} questions, {n_neg} negatives on {len(negatives)} paragraphs -> {args.out}")


def write(path: str, data: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(data, f)


if __name__ == "__main__":
    main()
