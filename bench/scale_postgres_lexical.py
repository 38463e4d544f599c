"""PostgreSQL lexical top-k at scale: the store's pruned BM25 (impact table) against exact BM25.

The product's PostgreSQL store (``qa.index.store_postgres``), built the way ``qa index --rebuild --store``
builds it (``PostgresIndex.build`` -> ``add_document`` -> ``commit``), minus the embedder, over ``--n``
chunk-sized texts: the same SQuAD v1.1 *train* sentence windows as ``bench/scale.py``'s lexical part
(``scale.sentence_windows``, same seed: the first N of its 1M texts), 100 texts per ``.txt`` document,
each text one chunk. Chunk vectors are random and the dense HNSW index is left out of the schema (only
the lexical side is measured; building a 384-d HNSW would dominate the build time).

Asked: ``--questions`` real SQuAD v1.1 dev questions (seed 0, those with at least one content term), one
at a time from one connection, ``Store.lexical_search`` (document frequencies included), k = 10 and the
engine's retrieval depth k = 100. Against, same questions, interleaved: the same pruned search over one
row per posting (``qa_postings``, as the store kept its impact table before ``qa_blocks``; made beside the
blocks by ``rows_beside_blocks``, which also moves a database built before the blocks to them), and the
exhaustive BM25 of the same store (``store.prune = False``: every chunk holding a question term scored in
SQL over the GIN index). Overlap = |pruned top k & exact top k| / k. Note: a database with the rows
beside its blocks is for this comparison only: after a build on it the store would read those rows as
postings added since the blocks (the updates in docs/BENCHMARKS.md ran after a first one had made the
blocks again and emptied the rows).

``--sparsevec``: design (a) for comparison, outside the product: one pgvector ``sparsevec`` per chunk
(the impact table's rows: term number -> saturated, length-normalised weight), HNSW ``sparsevec_ip_ops``
(m 16, ef_construction 64), queried with the terms' idf, ``hnsw.ef_search`` sweep.

Usage: .venv/bin/python bench/scale_postgres_lexical.py [--n 200000] [--questions 300] [--sparsevec N]
Server: bench/out/scale/pg-bm25/ (a database per N, kept for reruns: --rebuild to start over);
results: bench/out/scale-postgres-lexical-N.json / .md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, SQUAD_DEV, fmt, pcts, provenance, save

SERVER = OUT / "scale" / "pg-bm25"
DIM = 384


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def server(args):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale import pg_server

    SERVER.parent.mkdir(parents=True, exist_ok=True)
    return pg_server(SERVER, {"shared_buffers": args.shared_buffers, "max_wal_size": "8GB",
                              "maintenance_work_mem": "512MB", "work_mem": "64MB"})


def database_url(srv, name: str, create: bool) -> str:
    import psycopg

    url = srv.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        if create:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
    return re.sub(r"/postgres(\?|$)", rf"/{name}\1", url, count=1)


def no_dense_index() -> None:
    """Random vectors: no dense index (bench only; building a 384-d HNSW would dominate every build),
    and a hand-made manifest."""
    import qa.index.store_postgres as sp

    sp.SCHEMA = re.sub(r"CREATE INDEX IF NOT EXISTS qa_chunks_embedding[^;]*;", "", sp.SCHEMA)
    sp.incompatibility = lambda *a, **kw: None


def build(url: str, n: int, doc_chunks: int) -> dict:
    """The store over the first n sentence windows, through the product's build path."""
    from scale import make_document, manifest_for, sentence_windows

    import qa.index.store_postgres as sp
    from qa.config import ChunkerSettings

    no_dense_index()
    rng = np.random.default_rng(0)
    texts = sentence_windows(n)
    first = next(texts)  # loads and stems the SQuAD train sentences before the clock starts
    info: dict = {"loadavg_at_start": loadavg()}
    index = sp.PostgresIndex(url)
    t0 = time.perf_counter()
    with index.build(ChunkerSettings(), rebuild=True) as b:
        store = b.store()
        done = d = 0
        pending = [first]
        while done < n:
            m = min(doc_chunks, n - done)
            while len(pending) < m:
                pending.append(next(texts))
            doc, chunks = make_document(f"corpus/doc-{d:06d}.txt", [[raw for raw, _ in p] for p in pending[:m]],
                                        sentence_spans=False)
            pending = pending[m:]
            vecs = rng.standard_normal((m, DIM), dtype=np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            store.add_document(doc, sha256=f"{d:064x}", size=len(doc.text.encode()), mtime=0.0, indexed_at=0.0,
                               chunks=chunks, chunk_vectors=vecs, sentence_vectors=[vecs[i: i + 1] for i in range(m)])
            done += m
            d += 1
            if d % max(1, 20_000 // doc_chunks) == 0:
                print(f"  {done} chunks, {time.perf_counter() - t0:.0f} s, load {loadavg()}", flush=True)
        info["add_documents_s"] = round(time.perf_counter() - t0, 1)
        t1 = time.perf_counter()
        b.commit(manifest_for(store, "synthetic: scale_postgres_lexical.py"))
        info["commit_s"] = round(time.perf_counter() - t1, 1)
        info["commit_impact_table_s"] = round(b.timings.get("postings_s", 0.0), 1)
    info["build_s"] = round(time.perf_counter() - t0, 1)
    t1 = time.perf_counter()
    with sp.connect(url, vectors=False) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum does after a big insert (sets the visibility map)
    info["vacuum_analyze_s"] = round(time.perf_counter() - t1, 1)
    info["loadavg_at_end"] = loadavg()
    return info


def rows_beside_blocks(url: str) -> dict:
    """Both forms of the impact table in one database, for an interleaved comparison: the blocks
    (``qa_blocks``, what the store reads) and one row per posting (``qa_postings``, what it read before
    the blocks, and still reads for chunks added since). A database built before the blocks is moved to
    them by a commit with no change, as ``qa index`` would, its rows kept aside meanwhile; one built with
    the blocks gets its rows made here. The manifest keeps saying the rows hold nothing, so the store
    reads only the blocks unless told otherwise (``measure``)."""
    import qa.index.store_postgres as sp
    from qa.config import ChunkerSettings

    out: dict = {}
    with sp.connect(url, vectors=False) as conn:
        stats = (sp._meta(conn, "manifest") or {}).get("stats") or {}
        has_blocks = conn.execute("SELECT to_regclass('qa_blocks') IS NOT NULL").fetchone()[0]
        rows = conn.execute("SELECT EXISTS (SELECT 1 FROM qa_postings)").fetchone()[0]
        if stats.get("block") and has_blocks and rows:
            return out
        if not stats.get("block"):  # built before the blocks: made from every chunk at the next commit
            no_dense_index()
            conn.execute("ALTER TABLE qa_postings RENAME TO qa_postings_rows")
            conn.execute("ALTER INDEX qa_postings_top RENAME TO qa_postings_rows_top")
            t0 = time.perf_counter()
            with sp.PostgresIndex(url).build(ChunkerSettings()) as b:
                b.commit(sp._meta(conn, "manifest"))
            out["blocks_from_every_chunk_s"] = round(time.perf_counter() - t0, 1)
            out["blocks_commit_s"] = round(b.timings.get("postings_s", 0.0), 1)
            conn.execute("DROP TABLE qa_postings")
            conn.execute("ALTER TABLE qa_postings_rows RENAME TO qa_postings")
            conn.execute("ALTER INDEX qa_postings_rows_top RENAME TO qa_postings_top")
        else:  # rows made as the store made them before the blocks
            t0 = time.perf_counter()
            conn.execute("INSERT INTO qa_postings (term, impact, chunk_id)" + sp._POSTING_ROWS + " ORDER BY 1, 2, 3",
                         {"avgdl": stats["postings_avgdl"]})
            out["rows_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        out["vacuum_analyze_s"] = round(time.perf_counter() - t0, 1)
    return out


def sizes(url: str) -> dict:
    from qa.index.store_postgres import connect

    out = {}
    with connect(url, vectors=False) as conn:
        for rel in ("qa_chunks", "qa_postings", "qa_blocks", "qa_terms"):
            out[f"{rel}_heap_bytes"] = conn.execute(  # heap + TOAST + free space / visibility maps
                "SELECT pg_table_size(%s)", (rel,)).fetchone()[0]
        for ix in ("qa_chunks_terms", "qa_postings_top", "qa_blocks_pkey", "qa_chunks_pkey", "qa_terms_pkey"):
            out[f"{ix}_bytes"] = conn.execute("SELECT pg_relation_size(%s)", (ix,)).fetchone()[0]
        out["postings_rows"] = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'qa_postings'").fetchone()[0]
        out["terms_rows"] = conn.execute("SELECT count(*) FROM qa_terms").fetchone()[0]
        out["blocks_rows"] = conn.execute("SELECT count(*) FROM qa_blocks").fetchone()[0]
        out["database_bytes"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return out


def dev_questions(count: int) -> list[tuple[str, list[str]]]:
    from qa.ingest.lexical import query_terms

    with gzip.open(SQUAD_DEV, "rt", encoding="utf-8") as f:
        data = json.load(f)
    qs = [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]
    random.Random(0).shuffle(qs)
    out = [(q, query_terms(q)) for q in qs]
    return [(q, t) for q, t in out if t][:count]


def measure(url: str, questions, ks=(10, 100), exhaustive_questions: int | None = None) -> dict:
    """Per question, interleaved: the pruned search as the store runs it (the blocks), the same search
    over one row per posting (``qa_postings``, the store before the blocks; see ``rows_beside_blocks``),
    and the exhaustive BM25 (for the first ``exhaustive_questions``; all by default)."""
    from qa.index.store import open_index

    store, _, _ = open_index(url).open()
    blocks = dict(store._stats)
    rows = dict(blocks, block=0, delta_postings=None)  # every posting a row
    for _, t in questions[:20]:  # warm: caches, plans
        for stats in (blocks, rows):
            store._stats = stats
            store.lexical_search(t, 10)
        store.prune = False
        store.lexical_search(t, 10)
        store.prune = True
    store._stats = blocks
    out: dict = {"loadavg_at_start": loadavg()}
    n_ex = len(questions) if exhaustive_questions is None else min(exhaustive_questions, len(questions))
    for k in ks:
        fast, by_rows, slow, overlap, rounds, postings, scored, fallback, exact_same = [], [], [], [], [], [], [], 0, 0
        rows_postings, rows_same = [], 0
        for qi, (_, t) in enumerate(questions):
            order = (blocks, rows) if qi % 2 == 0 else (rows, blocks)  # neither always first
            for stats in order:
                store._stats = stats
                s = time.perf_counter()
                hits = store.lexical_search(t, k)
                ms = (time.perf_counter() - s) * 1000
                info = store.last_search
                if stats is blocks:
                    a = hits
                    fast.append(ms)
                    rounds.append(info.get("rounds", 0))
                    postings.append(info.get("postings", 0))
                    scored.append(info.get("scored", 0))
                    fallback += bool(info.get("exhaustive"))
                else:
                    c = hits
                    by_rows.append(ms)
                    rows_postings.append(info.get("postings", 0))
            store._stats = blocks
            rows_same += [i for i, _ in a] == [i for i, _ in c]
            if qi >= n_ex:
                continue
            store.prune = False
            s = time.perf_counter()
            b = store.lexical_search(t, k)
            slow.append((time.perf_counter() - s) * 1000)
            store.prune = True
            want = {i for i, _ in b}
            overlap.append(len({i for i, _ in a} & want) / len(want) if want else float(not a))
            exact_same += [i for i, _ in a] == [i for i, _ in b]
        row = {"k": k, "pruned": {f"{x}_ms": v for x, v in pcts(fast).items()},
               "pruned_rows": {f"{x}_ms": v for x, v in pcts(by_rows).items()},
               "pruned_rows_postings_read_p50": float(np.median(rows_postings)),
               "pruned_rows_postings_read_p95": float(np.percentile(rows_postings, 95)),
               "same_ranking_as_rows_share": rows_same / len(questions),
               "exhaustive_questions": n_ex,
               "exhaustive": {f"{x}_ms": v for x, v in pcts(slow).items()},
               f"top{k}_overlap_mean": float(np.mean(overlap)), f"top{k}_overlap_min": float(np.min(overlap)),
               "same_ranking_share": exact_same / n_ex,
               "rounds_p50": float(np.median(rounds)), "rounds_max": int(np.max(rounds)),
               "postings_read_p50": float(np.median(postings)), "postings_read_p95": float(np.percentile(postings, 95)),
               "chunks_scored_p50": float(np.median(scored)), "chunks_scored_p95": float(np.percentile(scored, 95)),
               "fell_back_to_exhaustive": fallback, "loadavg": loadavg()}
        print(json.dumps(row), flush=True)
        out[f"k{k}"] = row
    store.close()
    return out


def sparsevec(url: str, questions, n_questions: int) -> dict:
    """Design (a): BM25 as a sparsevec per chunk, HNSW inner product (outside the product)."""
    from qa.index.store import open_index
    from qa.index.store_postgres import connect, idf

    info: dict = {"loadavg_at_start": loadavg()}
    with connect(url, vectors=False) as conn:
        dim = conn.execute("SELECT max(id) + 1 FROM qa_terms").fetchone()[0]
        have = conn.execute("SELECT to_regclass('bm25_sv_hnsw') IS NOT NULL").fetchone()[0]
        if not have:
            conn.execute("DROP TABLE IF EXISTS bm25_sv")
            t0 = time.perf_counter()
            conn.execute(
                "CREATE TABLE bm25_sv AS SELECT chunk_id AS id, ('{' || string_agg((term + 1)::text || ':' || impact::text,"
                f" ',' ORDER BY term) || '}}/{dim}')::sparsevec({dim}) AS v FROM qa_postings GROUP BY chunk_id")
            info["table_s"] = round(time.perf_counter() - t0, 1)
            t0 = time.perf_counter()
            conn.execute("SET maintenance_work_mem = '2GB'")
            conn.execute("CREATE INDEX bm25_sv_hnsw ON bm25_sv USING hnsw (v sparsevec_ip_ops)")
            info["hnsw_build_s"] = round(time.perf_counter() - t0, 1)
            print("sparsevec build", json.dumps(info), flush=True)
            conn.execute("VACUUM ANALYZE bm25_sv")
        info["table_bytes"] = conn.execute("SELECT pg_table_size('bm25_sv')").fetchone()[0]
        info["hnsw_bytes"] = conn.execute("SELECT pg_relation_size('bm25_sv_hnsw')").fetchone()[0]
    store, _, _ = open_index(url).open()
    store.prune = False
    n = store.n_chunks
    qs = questions[:n_questions]
    truth, qvecs = [], []
    for _, t in qs:
        truth.append({i for i, _ in store.lexical_search(t, 10)})
        vocab = store._vocabulary(t)
        qvecs.append("{" + ",".join(f"{vocab[w][1] + 1}:{idf(n, vocab[w][0])}" for w in sorted(vocab, key=lambda w: vocab[w][1]))
                     + f"}}/{dim}")
    conn = store.conn
    rows = []
    for ef in (40, 200, 1000):
        conn.execute(f"SET hnsw.ef_search = {ef}")
        times, overlap = [], []
        for q, want in zip(qvecs, truth):
            s = time.perf_counter()
            got = [r[0] for r in conn.execute("SELECT id FROM bm25_sv ORDER BY v <#> %s::sparsevec LIMIT 10", (q,)).fetchall()]
            times.append((time.perf_counter() - s) * 1000)
            overlap.append(len(set(got) & want) / max(1, len(want)))
        row = {"ef_search": ef, **{f"{x}_ms": v for x, v in pcts(times).items()}, "top10_overlap_mean": float(np.mean(overlap)),
               "loadavg": loadavg()}
        print("sparsevec", json.dumps(row), flush=True)
        rows.append(row)
    info["rows"] = rows
    store.close()
    return info


def report(res: dict) -> str:
    n, b, z = res["n"], res.get("build", {}), res["sizes"]
    def gib(x):
        return f"{x / 2**30:.2f}"

    lines = [f"PostgreSQL pruned BM25, {n:,} chunks, {res['questions']} SQuAD v1.1 dev questions", "",
             "| | figure |", "|---|---|"]
    if "add_documents_s" in b:
        lines += [(f"| build: add_document x {n // b.get('doc_chunks', 100):,} / commit (of it impact table) / VACUUM ANALYZE |"
                  f" {b['add_documents_s']} / {b['commit_s']} ({b['commit_impact_table_s']}) / {b['vacuum_analyze_s']} s |")]
    if "blocks_from_every_chunk_s" in res.get("rows_beside_blocks", {}):
        m = res["rows_beside_blocks"]
        lines.append(f"| blocks made from every chunk by a commit with no change (of it the blocks) | {m['blocks_from_every_chunk_s']}"
                     f" ({m['blocks_commit_s']}) s |")
    lines += [(f"| qa_blocks: rows / heap + TOAST / primary key | {z['blocks_rows']:,} / {gib(z['qa_blocks_heap_bytes'])}"
              f" / {gib(z['qa_blocks_pkey_bytes'])} GiB |"),
              (f"| qa_postings (beside them, for the comparison): rows / heap / btree (term, impact, chunk_id) |"
               f" {z['postings_rows']:,} / {gib(z['qa_postings_heap_bytes'])} / {gib(z['qa_postings_top_bytes'])} GiB |"),
              f"| qa_chunks heap / GIN on terms | {gib(z['qa_chunks_heap_bytes'])} / {gib(z['qa_chunks_terms_bytes'])} GiB |",
              f"| database | {gib(z['database_bytes'])} GiB |", "",
              ("| k | pruned (blocks) p50 / p95 ms | postings read p50 (p95) | the same over rows: p50 / p95 ms | its postings read p50 (p95)"
              " | exhaustive p50 / p95 ms | top-k overlap with exhaustive (mean, min) | same ranking |"
              " rounds p50 (max) | chunks scored p50 (p95) | fell back | load |"),
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in ("k10", "k100"):
        r = res["measure"].get(key)
        if r:
            k = r["k"]
            ev = r["pruned_rows"]
            lines.append(
                f"| {k} | {fmt(r['pruned']['p50_ms'], 1)} / {fmt(r['pruned']['p95_ms'], 1)} | {r['postings_read_p50']:.0f}"
                f" ({r['postings_read_p95']:.0f}) | "
                f"{fmt(ev['p50_ms'], 1)} / {fmt(ev['p95_ms'], 1)} | {r['pruned_rows_postings_read_p50']:.0f}"
                f" ({r['pruned_rows_postings_read_p95']:.0f})"
                f" | {fmt(r['exhaustive']['p50_ms'], 1)} / {fmt(r['exhaustive']['p95_ms'], 1)}"
                f" ({r.get('exhaustive_questions', res['questions'])} q) | {r[f'top{k}_overlap_mean']:.4f}, {r[f'top{k}_overlap_min']:.2f}"
                f" | {r['same_ranking_share']:.3f} | {r['rounds_p50']:.0f} ({r['rounds_max']})"
                f" | {r['chunks_scored_p50']:.0f} ({r['chunks_scored_p95']:.0f})"
                f" | {r['fell_back_to_exhaustive']} | {r['loadavg'][0]} |")
    sv = res.get("sparsevec")
    if sv:
        lines += ["", (f"Design (a), sparsevec + HNSW ip (table {sv.get('table_s', '—')} s, HNSW build {sv.get('hnsw_build_s', '—')} s,"
                  f" table {gib(sv['table_bytes'])} GiB, HNSW {gib(sv['hnsw_bytes'])} GiB):"), "",
                  "| ef_search | p50 / p95 ms | top-10 overlap | load |", "|---|---|---|---|"]
        lines += [f"| {r['ef_search']} | {fmt(r['p50_ms'], 1)} / {fmt(r['p95_ms'], 1)} | {r['top10_overlap_mean']:.3f} | {r['loadavg'][0]} |"
                  for r in sv["rows"]]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--doc-chunks", type=int, default=100, help="chunks per document")
    ap.add_argument("--rebuild", action="store_true", help="build the database again even if it exists")
    ap.add_argument("--sparsevec", type=int, default=0, help="also design (a), over this many questions")
    ap.add_argument("--shared-buffers", default="2GB")
    ap.add_argument("--exhaustive-questions", type=int, default=None,
                    help="compare with exhaustive BM25 on only the first N questions (it takes ~2.4 s each at 1M)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    srv = server(args)
    name = f"bm25_{args.n}"
    import psycopg

    with psycopg.connect(srv.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
    res: dict = {"provenance": provenance(), "n": args.n}
    built = SERVER.parent / f"pg-bm25-build-{args.n}.json"  # the build's figures, for reruns that only ask
    if exists and not args.rebuild and built.exists():
        res["build"] = json.loads(built.read_text())
    url = database_url(srv, name, create=args.rebuild or not exists)
    if args.rebuild or not exists:
        res["build"] = build(url, args.n, args.doc_chunks)
        res["build"]["doc_chunks"] = args.doc_chunks
        built.write_text(json.dumps(res["build"]) + "\n")
        print(json.dumps(res["build"]), flush=True)
    moved = SERVER.parent / f"pg-bm25-blocks-{args.n}.json"  # how the blocks were made, for reruns
    res["rows_beside_blocks"] = rows_beside_blocks(url)
    if res["rows_beside_blocks"]:
        moved.write_text(json.dumps(res["rows_beside_blocks"]) + "\n")
    elif moved.exists():
        res["rows_beside_blocks"] = json.loads(moved.read_text())
    print(json.dumps(res["rows_beside_blocks"]), flush=True)
    res["sizes"] = sizes(url)
    print(json.dumps(res["sizes"]), flush=True)
    questions = dev_questions(args.questions)
    res["questions"] = len(questions)
    res["measure"] = measure(url, questions, exhaustive_questions=args.exhaustive_questions)
    if args.sparsevec:
        res["sparsevec"] = sparsevec(url, questions, args.sparsevec)
    save(f"scale-postgres-lexical-{args.n}", res, report(res))
    srv.cleanup()


if __name__ == "__main__":
    main()
