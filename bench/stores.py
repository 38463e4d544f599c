"""Embedded store vs PostgreSQL store on the same corpus: the same questions asked of both, interleaved
question by question so a busy neighbour slows both alike; retrieval per mode and the whole ask.

    bench/stores.py --store postgresql://... [--index bench/out/squad-dev/index] [--questions 500]

Both indexes must hold the same documents: e.g. the article-layout SQuAD dev index that
`qa eval DEV --index-dir bench/out/squad-dev` keeps, and `qa eval DEV --store URL` for PostgreSQL
(or start one with `qa pgserver`). Writes bench/out/stores.{json,md}.
"""

from __future__ import annotations

import argparse
import random
import time

from common import OUT, SQUAD_DEV, fmt, pcts, provenance, save


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True, help="postgresql:// URL holding the same corpus")
    ap.add_argument("--index", default=str(OUT / "squad-dev" / "index"), help="embedded index folder")
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from qa.answer.pipeline import Answerer
    from qa.evaluation.squad import load_squad
    from qa.index.embedder import Embedder
    from qa.ingest.lexical import query_terms

    embedder = Embedder()
    stores = {"embedded": Answerer(args.index, embedder=embedder), "postgresql": Answerer(args.store, embedder=embedder)}
    counts = {name: a.store.n_chunks for name, a in stores.items()}
    if len(set(counts.values())) != 1:
        raise SystemExit(f"the two indexes differ: {counts}")
    questions = [q.question for q in load_squad(SQUAD_DEV).questions]
    questions = random.Random(args.seed).sample(questions, min(args.questions, len(questions)))
    for a in stores.values():
        a.warm_up()
        a.ask(questions[0])

    ms = {name: {m: [] for m in ("dense", "bm25", "hybrid", "ask")} for name in stores}
    same_top = 0
    for q in questions:
        qvec = embedder.encode_queries([q])[0]
        terms = query_terms(q)
        tops = []
        for name, a in stores.items():
            for mode in ("dense", "bm25", "hybrid"):
                t = time.perf_counter()
                hits = a.retriever.run(qvec if mode != "bm25" else None, terms, 20, mode)
                ms[name][mode].append((time.perf_counter() - t) * 1000)
            top = a.store.chunks([hits[0].chunk_id])[0] if hits else None
            tops.append((top.source, top.start) if top else None)
            t = time.perf_counter()
            a.ask(q)
            ms[name]["ask"].append((time.perf_counter() - t) * 1000)
        same_top += tops[0] == tops[1]

    result = {"provenance": provenance(), "chunks": counts["embedded"], "questions": len(questions),
              "same_hybrid_top1": same_top / len(questions),
              "ms": {name: {m: pcts(v) for m, v in by.items()} for name, by in ms.items()}}
    rows = ["| stage | embedded p50 / p95 ms | PostgreSQL p50 / p95 ms | PostgreSQL / embedded (p50) |", "|---|---|---|---|"]
    for m in ("dense", "bm25", "hybrid", "ask"):
        e, p = result["ms"]["embedded"][m], result["ms"]["postgresql"][m]
        label = "whole ask (embed + retrieve + read)" if m == "ask" else f"retrieve top 20, {m}"
        rows.append(f"| {label} | {fmt(e['p50'], 1)} / {fmt(e['p95'], 1)} | {fmt(p['p50'], 1)} / {fmt(p['p95'], 1)} "
                    f"| {p['p50'] / e['p50']:.2f} |")
    md = (f"Stores on the same {counts['embedded']} chunks, {len(questions)} SQuAD v1.1 dev questions, interleaved; "
          f"same hybrid top passage for {same_top / len(questions):.3f} of them.\n\n" + "\n".join(rows))
    save("stores", result, md)


if __name__ == "__main__":
    main()
