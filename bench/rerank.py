"""Reranking retrieved passages with the span reader (``qa.answer.reranker``): does the passage that
answers come first more often, and what does it cost?

``collect``: per question, the engine's first ``--depth`` candidates (``Answerer.retrieve``, hybrid, the
shipped fusion), each read whole by the span reader (``Reranker.read``): retriever score, best span and
[CLS] scores, whether the passage holds a gold answer in the gold paragraph (as ``qa eval``'s recall), and
the milliseconds the reading took. ``study``: recall@1 / @5 for every reader weight from 0 (the
retriever's order) to 1 (the reader's alone) and for reading depths 5, 10 and 20.

Usage (the indexes are ``qa eval --index-dir`` / ``bench/fusion.py --index-dir`` scratch folders):
  export QA_THREADS=1 OMP_NUM_THREADS=1
  .venv/bin/python bench/rerank.py collect DATA --index-dir DIR [--articles 60] [--limit N --seed 0]
        [--scope-article] [--depth 20] --out F.jsonl
  .venv/bin/python bench/rerank.py study F.jsonl [F2.jsonl ...] [--fit F.jsonl]
``--fit``: the file whose best weight per depth (highest recall@1, then recall@5) is reported for all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from qa.answer.reranker import Reranker, combine, reading_odds
from qa.evaluation.metrics import passage_hit, recall_at

WEIGHTS = [round(w, 2) for w in np.arange(0.0, 1.0001, 0.1)]
DEPTHS = (5, 10, 20)


def questions_of(args):
    """The questions asked, their paragraphs placed in the documents as ``qa eval`` writes them."""
    import tempfile

    from qa.evaluation.squad import load_squad, sample_questions, write_corpus

    squad = load_squad(args.data)
    if args.articles:
        from fusion import subset

        squad = subset(squad, args.articles, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(squad, Path(tmp) / "corpus", "article")
    return sample_questions(squad.questions, args.limit, args.seed)


def collect(args) -> None:
    from tqdm import tqdm

    from qa.answer.pipeline import Answerer
    from qa.settings import Settings

    answerer = Answerer(Path(args.index_dir) / "index", settings=Settings.from_env(reader="trained", rerank=0))
    reranker = Reranker(answerer.reader.span_reader, depth=args.depth)
    answerer.warm_up()
    with open(args.out, "w") as out:
        for q in tqdm(questions_of(args), desc="rerank", file=sys.stderr, mininterval=2):
            if q.impossible:
                continue
            scope = [q.paragraph.source] if args.scope_article else None
            _, _, candidates = answerer.retrieve(q.question, n=args.depth, mode="hybrid", scope=scope)
            t0 = time.perf_counter()
            read = reranker.read(q.question, candidates)
            ms = (time.perf_counter() - t0) * 1000
            p = q.paragraph
            out.write(json.dumps({
                "id": q.id,
                "retrieval": [c.score for c in candidates],
                "span": [s if s != -np.inf else None for s, _ in read],
                "null": [n for _, n in read],
                "hit": [passage_hit(c.chunk, p.source, p.start, p.end, q.answers) for c in candidates],
                "ms": round(ms, 2),
            }) + "\n")


def order(row: dict, weight: float, depth: int) -> list[int]:
    """The candidates' order after reranking the first ``depth`` as ``Reranker.run`` does."""
    n = min(depth, len(row["hit"]))
    if n < 2:
        return list(range(len(row["hit"])))
    odds = [reading_odds(-np.inf if s is None else s, x) for s, x in zip(row["span"][:n], row["null"][:n])]
    scores = combine(row["retrieval"][:n], odds, weight)
    return sorted(range(n), key=lambda i: -scores[i]) + list(range(n, len(row["hit"])))


def recalls(rows: list[dict], weight: float, depth: int) -> dict:
    ranks = []
    for row in rows:
        ranked = order(row, weight, depth)
        ranks.append(next((r for r, i in enumerate(ranked, 1) if row["hit"][i]), None))
    return {"R@1": round(recall_at(ranks, 1), 4), "R@5": round(recall_at(ranks, 5), 4)}


def study(args) -> None:
    sets = {Path(f).stem: [json.loads(x) for x in Path(f).read_text().splitlines()] for f in args.files}
    out: dict = {}
    for name, rows in sets.items():
        ms = np.array([r["ms"] for r in rows])
        out[name] = {"questions": len(rows), "read_ms_p50_at_depth": float(np.percentile(ms, 50)),
                     "by_depth": {d: {f"{w:.1f}": recalls(rows, w, d) for w in WEIGHTS} for d in DEPTHS}}
    if args.fit:
        rows = sets[Path(args.fit).stem]
        out["fitted"] = {"on": Path(args.fit).stem}
        for d in DEPTHS:
            best = max(WEIGHTS, key=lambda w: (recalls(rows, w, d)["R@1"], recalls(rows, w, d)["R@5"]))
            out["fitted"][d] = {"weight": best, "recall": {name: recalls(r, best, d) for name, r in sets.items()}}
    print(json.dumps(out, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("data")
    c.add_argument("--index-dir", required=True)
    c.add_argument("--articles", type=int, default=None, help="as given to bench/fusion.py")
    c.add_argument("--limit", type=int, default=None)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--depth", type=int, default=20)
    c.add_argument("--scope-article", action="store_true")
    c.add_argument("--out", required=True)
    s = sub.add_parser("study")
    s.add_argument("files", nargs="+")
    s.add_argument("--fit", default=None)
    args = ap.parse_args()
    collect(args) if args.command == "collect" else study(args)


if __name__ == "__main__":
    main()
