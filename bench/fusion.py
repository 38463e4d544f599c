"""Retrieval fusion study: how should the dense and the BM25 rankings be combined?

For each question it records, once, both retrievers' top-``depth`` lists with their scores (and the
exact cosine of every candidate BM25 found but the vectors did not), and which candidates hold the
gold answer, and the best cosine of each candidate's sentences; then it scores recall@1/5/20 of dense,
BM25, reciprocal rank fusion and convex score fusion with several normalisations over a grid of
weights, offline, and of the second stage (``fusion.sentence_rescore`` over the first 30 of min-max
0.45: the weights of cosine and best sentence over a grid, BM25 the rest).

Usage:
  .venv/bin/python bench/fusion.py DATA.json.gz --index-dir DIR [--limit N] [--articles N] [--seed 0]
        [--depth 100] [--out bench/out/fusion-NAME.json]
``--articles N`` indexes only N articles (seeded shuffle) and asks their questions: for fitting on
SQuAD train. DIR is a ``qa eval --index-dir`` scratch folder (built here if missing), so the same
index serves ``qa eval`` and this study. Everything goes through the store interface (``open_index``,
``Store.dense_search`` / ``lexical_search`` / ``dense_scores`` / ``chunks``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from qa.answer.fusion import (
    FUSIONS,
    SENTENCE_WEIGHTS,
    fuse_scores,
    scale_minmax,
    sentence_rescore,
)
from qa.answer.retriever import dense_search
from qa.evaluation.harness import build_eval_index, prepare_workdir
from qa.evaluation.metrics import passage_hit, recall_at
from qa.evaluation.squad import SquadSet, load_squad, sample_questions
from qa.index.embedder import Embedder
from qa.index.store import open_index
from qa.ingest.lexical import query_terms


def subset(squad: SquadSet, articles: int, seed: int) -> SquadSet:
    """The first ``articles`` articles of a seeded shuffle, with their paragraphs and questions."""
    order = list(range(len(squad.titles)))
    random.Random(seed).shuffle(order)
    keep = set(order[:articles])
    out = SquadSet(squad.path, squad.version, [], [], [], squad.v2)
    renumber = {}
    for a in sorted(keep):
        renumber[a] = len(out.titles)
        out.titles.append(squad.titles[a])
    for p in squad.paragraphs:
        if p.article in keep:
            p.article = renumber[p.article]
            out.paragraphs.append(p)
    kept = {id(p) for p in out.paragraphs}
    out.questions = [q for q in squad.questions if id(q.paragraph) in kept]
    return out


def collect(store, embedder, questions, depth: int, scope_article: bool = False) -> list[dict]:
    """Per question: candidate ids with dense score, BM25 score (0 if not in BM25's list), both ranks, gold hit."""
    rows = []
    from tqdm import tqdm

    for q in tqdm(questions, desc="collect", file=sys.stderr, mininterval=2):
        qvec = embedder.encode_queries([q.question])[0]
        within = store.chunk_ids_of(q.paragraph.source) if scope_article else None  # as Answerer.ask(scope=...)
        dense = dense_search(store, qvec, depth, within)
        lexical = store.lexical_search(query_terms(q.question), depth, within=within)
        ids = list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical]))
        dscore = dict(dense)
        missing = [c for c in ids if c not in dscore]
        dscore.update(store.dense_scores(missing, qvec) if missing else {})
        lscore = dict(lexical)
        p = q.paragraph
        chunks = store.chunks(ids)
        hit = {c.id: passage_hit(c, p.source, p.start, p.end, q.answers) for c in chunks}
        # the best cosine of any of the chunk's sentences (their vectors are stored at index time)
        sentence = {c.id: float(np.max(c.sentence_vectors @ qvec)) if c.sentences else 0.0 for c in chunks}
        rows.append({
            "ids": ids,
            "dense": [float(dscore.get(c, 0.0)) for c in ids],
            "sentence": [sentence.get(c, 0.0) for c in ids],
            "bm25": [float(lscore.get(c, 0.0)) for c in ids],
            "dense_rank": [next((r for r, (x, _) in enumerate(dense) if x == c), None) for c in ids],
            "bm25_rank": [next((r for r, (x, _) in enumerate(lexical) if x == c), None) for c in ids],
            "hit": [bool(hit.get(c, False)) for c in ids],
        })
    return rows


def first_hit(order: list[int], hit: list[bool]) -> int | None:
    for r, i in enumerate(order, 1):
        if hit[i]:
            return r
    return None


def recalls(rows, rank_fn) -> dict:
    ranks = [first_hit(rank_fn(r), r["hit"]) for r in rows]
    return {f"R@{k}": round(recall_at(ranks, k), 4) for k in (1, 5, 20)}


def by_rank(key):
    def order(r):
        ranked = [i for i, x in enumerate(r[key]) if x is not None]
        return sorted(ranked, key=lambda i: r[key][i])
    return order


def rrf(r, k=60):
    s = [sum(1 / (k + x + 1) for x in (d, b) if x is not None) for d, b in zip(r["dense_rank"], r["bm25_rank"])]
    return sorted(range(len(s)), key=lambda i: -s[i])


def fused(method: str, weight: float):
    def order(r):
        s = fuse_scores(np.array(r["dense"]), np.array(r["bm25"]), method=method, weight=weight)
        return list(np.argsort(-s, kind="stable"))
    return order


def sentence_stage(depth: int, weights: tuple[float, float, float], first: float = 0.45):
    """As ``Retriever`` ranks with ``sentence_rescore=depth``: min-max fusion (dense weight ``first``), then
    its first ``depth`` reordered by ``fusion.sentence_rescore`` (cosine and BM25 scaled over the pool)."""
    def order(r):
        d, b = np.array(r["dense"]), np.array(r["bm25"])
        ranked = list(np.argsort(-fuse_scores(d, b, method="minmax", weight=first), kind="stable"))
        head = np.array(ranked[:depth])
        s = sentence_rescore(scale_minmax(d)[head], np.array(r["sentence"])[head], scale_minmax(b)[head], weights)
        return [int(head[i]) for i in np.argsort(-s, kind="stable")] + ranked[depth:]
    return order


def study(rows, sentence_depth: int = 30) -> dict:
    out = {"dense": recalls(rows, by_rank("dense_rank")), "bm25": recalls(rows, by_rank("bm25_rank")),
           "rrf": recalls(rows, rrf)}
    for method in FUSIONS:
        out[method] = {f"{w:.2f}": recalls(rows, fused(method, w)) for w in np.arange(0.0, 1.0001, 0.05)}
    if rows and "sentence" in rows[0]:  # second stage: weights of cosine, best sentence (BM25: the rest)
        grid = [(round(wd, 2), round(ws, 2)) for wd in np.arange(0.0, 0.501, 0.05) for ws in np.arange(0.0, 0.801 - wd, 0.05)]
        out[f"sentences@{sentence_depth}"] = {
            f"{wd:.2f},{ws:.2f}": recalls(rows, sentence_stage(sentence_depth, (wd, ws, round(1 - wd - ws, 2))))
            for wd, ws in grid}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--articles", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--out", default=None)
    ap.add_argument("--scope-article", action="store_true", help="each question within its own article")
    args = ap.parse_args()
    squad = load_squad(args.data)
    if args.articles:
        squad = subset(squad, args.articles, args.seed)
    embedder = Embedder()
    workdir, _ = prepare_workdir(args.index_dir)
    build_eval_index(squad, workdir, layout="article", embedder=embedder, progress=True)
    index = open_index(workdir / "index")
    store, _, _ = index.open()
    questions = [q for q in sample_questions(squad.questions, args.limit, args.seed) if not q.impossible]
    t = time.perf_counter()
    rows = collect(store, embedder, questions, args.depth, args.scope_article)
    result = {"data": args.data, "questions": len(rows), "articles": len(squad.titles), "depth": args.depth,
              "collect_seconds": round(time.perf_counter() - t, 1), "recall": study(rows)}
    out = Path(args.out or f"bench/out/fusion-{Path(args.data).name.split('.')[0]}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    rows_out = out.with_suffix(".rows.json")
    rows_out.write_text(json.dumps(rows))
    best = {m: max(v.items(), key=lambda kv: kv[1]["R@1"]) for m, v in result["recall"].items() if m in FUSIONS}
    for m, v in result["recall"].items():  # the second stage: chosen by recall@1 + recall@5
        if m.startswith("sentences@"):
            best[m] = max(v.items(), key=lambda kv: kv[1]["R@1"] + kv[1]["R@5"])
            best[m + " shipped"] = ("{:.2f},{:.2f}".format(*SENTENCE_WEIGHTS[:2]), v["{:.2f},{:.2f}".format(*SENTENCE_WEIGHTS[:2])])
    print(json.dumps({k: result["recall"][k] for k in ("dense", "bm25", "rrf")}))
    print(json.dumps(best))


if __name__ == "__main__":
    main()
