"""The PostgreSQL store's pruned BM25 under several parameter sets, interleaved per question.

Over a database ``bench/scale_postgres_lexical.py --n N`` built (kept in bench/out/scale/pg-bm25/), asks
``--questions`` SQuAD v1.1 dev questions (the same seeded sample) with each parameter set in turn, the
order rotated per question so that no set always meets a cold cache, and checks that every set returns
the same ranking. A parameter set is ``first,batch,at_most``: the postings read per term in the first
round (``PostgresStore.prune_first``), the candidates scored per round trip (``PRUNE_BATCH``) and how
many candidates may be open before a round scores instead of reading on (``score_at_most``; ``none``:
always score).

Usage: .venv/bin/python bench/pg_prune_sweep.py --n 1000000 --k 10 8192,256,1024 1024,128,none
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_postgres_lexical as lexical


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", help="first,batch,at_most (at_most may be none)")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--questions", type=int, default=150)
    ap.add_argument("--shared-buffers", default="2GB")
    args = ap.parse_args()
    import qa.index.store_postgres as sp
    from qa.index.store import open_index

    sets = [tuple(None if x == "none" else int(x) for x in v.split(",")) for v in args.sets]
    srv = lexical.server(args)
    store, _, _ = open_index(lexical.database_url(srv, f"bm25_{args.n}", create=False)).open()
    questions = lexical.dev_questions(args.questions)
    for _, terms in questions[:10]:  # warm
        store.lexical_search(terms, args.k)
    ms = {v: [] for v in sets}
    read = {v: [] for v in sets}
    scored = {v: [] for v in sets}
    for qi, (_, terms) in enumerate(questions):
        first = None
        for v in sets[qi % len(sets):] + sets[:qi % len(sets)]:
            store.prune_first, sp.PRUNE_BATCH, store.score_at_most = v
            t0 = time.perf_counter()
            hits = store.lexical_search(terms, args.k)
            ms[v].append((time.perf_counter() - t0) * 1000)
            read[v].append(store.last_search.get("postings", 0))
            scored[v].append(store.last_search.get("scored", 0))
            first = first or [i for i, _ in hits]
            assert [i for i, _ in hits] == first, (v, terms)
    print(f"{args.n:,} chunks, k {args.k}, {len(questions)} questions, load {lexical.loadavg()}")
    print("| first, batch, at most | p50 / p95 / mean ms | postings read p50 | chunks scored p50 |")
    print("|---|---|---|---|")
    for v in sets:
        x = np.asarray(ms[v])
        print(f"| {v} | {np.median(x):.1f} / {np.percentile(x, 95):.1f} / {x.mean():.1f} | {np.median(read[v]):.0f}"
              f" | {np.median(scored[v]):.0f} |")
    store.close()
    srv.cleanup()


if __name__ == "__main__":
    main()
