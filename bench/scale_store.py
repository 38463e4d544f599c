"""The embedded store end to end at N chunks (1,000,000 for the record, 200,000 for quick checks): build,
open, ask, update one file, with the product's own code.

``bench/scale.py`` measured the vector index kinds in isolation; this builds a real index folder the way
``qa index --rebuild`` would, through the store boundary (``open_index`` -> ``Index.build`` ->
``Build.store().add_document`` -> ``Build.commit(manifest)``), minus the embedder, and asks it real
questions with ``Answerer``. Steps inside a build are timed by wrapping functions of the store's modules
(``Clock``), without changing them. Each part runs in its own process (its memory figures are its own):

- inputs: ``bench/out/scale/vectors-N.npy``, the synthetic-from-real vectors of ``bench/scale.py`` (the same
  recipe: ``normalize(b_i + l b_j + s L z)``, seed 0), with bases embedded here by the product's embedder:
  ``--base-paragraphs`` random SQuAD v1.1 *train* paragraphs and their in-context sentence vectors
  (``Embedder.encode_chunks``; cached in ``bases-store-P.npy``). ``scale.py``'s own bases need the
  old-layout SQuAD dev index; these are the cheapest real bases: ~1 min of embedding, once;
- texts: the chunk-sized texts of ``scale.sentence_windows`` (SQuAD train sentences recombined at random,
  seed 0), as raw sentences, so the product stems and indexes them itself; ``--doc-chunks`` consecutive
  texts make one ``.txt`` document, each text one chunk, its sentences the chunk's sentence spans; chunk
  i gets vector row i, each sentence a float16 vector too (row ``(7 i + j) mod N``: only the bytes matter).
  Answers are therefore meaningless: only time, memory, disk and the lexical ranking count;
- ``--real-index DIR`` (a ``qa eval --index-dir`` folder of SQuAD v1.1 dev) adds its documents as they are
  indexed there, text, chunks, chunk and sentence vectors (real ones, from the product's embedder), under
  ``real/``: the asked questions then have their answers among the N synthetic chunks, the sentence ranker
  and the reader work on real vectors (so reading costs what it costs on real questions), and the ask part
  also reports each mode's EM / F1 at the default threshold against the gold answers;
- build: ``Index.build(rebuild=True)`` -> ``add_document`` per document -> ``Build.commit``;
  ``build_s`` is that minus making the inputs;
- ask: a fresh process with ``QA_THREADS=1 OMP_NUM_THREADS=1``; ``open_s`` is ``Answerer(index)``
  (manifest, size checks, sha256 of the small files, FAISS + tantivy loaded; the models only start
  loading in the background), model warm-up apart; then ``--questions`` real SQuAD v1.1 dev questions
  (seed 0), one at a time, per mode (dense, bm25, hybrid: wall time of ``Answerer.ask``, reading
  included; each mode after 10 untimed) and ``lexical``: ``store.lexical_search(query_terms(q), depth)``
  alone. ``rss_bytes``: the asking process's peak RSS (ru_maxrss, models included);
- update, twice (the second is the steady state: live + previous generation + the new one): what
  ``qa index`` does when one file changed: ``Index.build`` (lock, sweep, verify), ``Build.store`` (link
  the live generation, open it), ``remove_document`` + ``add_document`` of one document of 10 chunks
  (was 100), ``Build.commit`` (save, publish, sweep); making the document is not timed. Disk: the folder's
  bytes, each inode once (``IndexDir.disk_bytes``), sampled every 20 ms by a thread and right before and
  after ``IndexDir.publish``; ``peak_disk_ratio`` = peak / the folder's bytes before that update;
- overlap: for the asked questions' ``query_terms``, |top 10 of ``store.lexical_search`` ∩ top 10 of an
  exhaustive exact BM25 (tantivy's formula: k1 1.2, b 0.75, idf ln(1 + (N - n + 0.5)/(n + 0.5)), exact
  lengths), computed here from the same texts| / 10, averaged; and the same against SQLite FTS5 bm25 (the
  engine before, its table as the old store made it) in a side database of the same stemmed terms.

Usage: .venv/bin/python bench/scale_store.py [--n 1000000] [--json] [--doc-chunks 100] [--questions 300]
       [--parts inputs,build,ask,update,overlap,report] [--keep] [--real-index DIR]
``--json`` prints one JSON object on stdout (everything else goes to stderr): chunks, build_s, open_s,
update_one_file_s ({first, second}), disk_bytes, peak_disk_bytes_during_update ({first, second}),
peak_disk_ratio ({first, second}), rss_bytes, p50_ms / p95_ms ({dense, bm25, hybrid, lexical}),
lexical_top10_overlap, lexical_top10_overlap_fts5.
Index: bench/out/scale/store-N/ (deleted at the end unless --keep; so is the FTS5 side database);
results: bench/out/scale-store-N.json / .md and the parts in bench/out/scale/part-store-*-N.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale
from common import OUT, SQUAD_DEV, fmt, pcts, provenance, save
from scale import (
    SQUAD_TRAIN,
    load_squad_json,
    loadavg,
    make_document,
    manifest_for,
    peak_rss,
    rss,
)

SCALE = OUT / "scale"
DIM = 384
MODES = ("dense", "bm25", "hybrid")
UPDATE_CHUNKS = 10
K1, B = 1.2, 0.75


def part_file(name: str, n: int) -> Path:
    return scale.part_file(name, n, "part-store")


def write_part(name: str, n: int, data: dict) -> None:
    data = dict(data, loadavg_at_end=loadavg())
    part_file(name, n).write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(data, indent=1), flush=True)


def read_part(name: str, n: int) -> dict | None:
    path = part_file(name, n)
    return json.loads(path.read_text()) if path.exists() else None


def store_path(n: int) -> Path:
    return SCALE / f"store-{n}"


def fts_path(n: int) -> Path:
    return SCALE / f"fts5-side-{n}.sqlite"


def update_texts_path(n: int) -> Path:
    return SCALE / f"store-{n}-update-texts.json"


def raw_texts(n: int, words: int = 150):
    """The texts of ``scale.sentence_windows`` as lists of raw sentences."""
    for parts in scale.sentence_windows(n, words):
        yield [raw for raw, _ in parts]


class Clock:
    """Wrap functions of modules (or methods of classes) to add up the time spent in them (the product's
    code is not changed). A name that is gone is left out of the breakdown (``missing``)."""

    def __init__(self) -> None:
        self.s: dict[str, float] = {}
        self.missing: list[str] = []

    def wrap(self, owner, name: str, label: str | None = None) -> None:
        label = label or name
        fn = getattr(owner, name, None)
        if fn is None:
            self.missing.append(f"{owner.__name__}.{name}")
            return

        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.s[label] = self.s.get(label, 0.0) + time.perf_counter() - t

        setattr(owner, name, timed)

    def rounded(self, nd: int = 2) -> dict:
        return {k: round(v, nd) for k, v in self.s.items()}

    def get(self, label: str) -> float:
        return self.s.get(label, 0.0)


def store_clock() -> Clock:
    """A clock on what a build runs in the embedded store: ``EmbeddedStore.save`` (the new segment's
    ``Segment.save``: SQLite commit, flat -> IVF rebuild past EXACT_MAX, FAISS write; segment merges; the
    tantivy commit), ``IndexDir.publish`` (sha256 and fsync of the new files, rename, CURRENT),
    ``IndexDir.sweep``, ``IndexDir.verify`` and ``IndexDir.start_generation`` (the hard links)."""
    import faiss

    import qa.index.segment as seg
    import qa.index.store_embedded as se
    import qa.index.vector_index as vi
    from qa.index import index_dir, lexical_index

    clock = Clock()
    clock.wrap(se.EmbeddedStore, "save", "save")
    clock.wrap(seg.Segment, "save", "save_segment")
    clock.wrap(seg, "all_vectors", "save_all_vectors")
    clock.wrap(vi, "train", "save_ivf_train")
    clock.wrap(vi, "build", "save_ivf_build")  # train + add_with_ids
    clock.wrap(faiss, "write_index", "save_write_faiss")
    clock.wrap(se.EmbeddedStore, "_merge", "save_merge_segments")
    clock.wrap(lexical_index.LexicalWriter, "commit", "save_tantivy_commit")
    clock.wrap(index_dir.IndexDir, "publish", "publish")
    clock.wrap(index_dir, "sha256_file", "sha256")
    clock.wrap(os, "fsync", "fsync")
    clock.wrap(index_dir.IndexDir, "sweep", "sweep")
    clock.wrap(index_dir.IndexDir, "verify", "verify")
    clock.wrap(index_dir.IndexDir, "start_generation", "start_generation")
    return clock


def rnd(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(x, nd)


def file_sizes(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def grouped_sizes(folder: Path) -> dict:
    """Bytes per kind of file in a generation: segment SQLite, FAISS, sentence vectors, tantivy, other."""
    out: dict[str, int] = {}
    for name, size in file_sizes(folder).items():
        kind = ("lexical (tantivy)" if name.startswith("lexical/") else
                f"segments {Path(name).suffix}" if name.startswith("seg-") else name)
        out[kind] = out.get(kind, 0) + size
    return out


# --- inputs --------------------------------------------------------------------------------------


def real_bases(paragraphs: int):
    """Real all-MiniLM-L6-v2 vectors: ``paragraphs`` random SQuAD v1.1 train paragraphs (seed 0, as
    ``scale.real_bases`` picks them) and each of their sentences in context."""
    import numpy as np

    cache = SCALE / f"bases-store-{paragraphs}.npy"
    if cache.exists():
        return np.load(cache)
    from qa.index.embedder import Embedder

    data = load_squad_json(SQUAD_TRAIN)
    contexts = [p["context"] for a in data["data"] for p in a["paragraphs"]]
    random.Random(0).shuffle(contexts)
    from qa.ingest.tokens import wordpiece_tokenizer

    tok = wordpiece_tokenizer()  # paragraphs that fit the model window whole (most do)
    contexts = [c for c in contexts[: 2 * paragraphs] if len(tok.encode(c, add_special_tokens=False).ids) <= 250]
    contexts = contexts[:paragraphs]
    split = re.compile(r"[^.!?]+(?:[.!?]+|$)")
    spans = [[(m.start(), m.end()) for m in split.finditer(c) if m.group().strip()] for c in contexts]
    t = time.perf_counter()
    chunk_vecs, sent_vecs = Embedder().encode_chunks(contexts, spans)
    print(f"embedded {paragraphs} train paragraphs and their sentences in {time.perf_counter() - t:.0f} s", flush=True)
    bases = np.concatenate([chunk_vecs, *sent_vecs]).astype(np.float32)
    bases = bases[np.linalg.norm(bases, axis=1) > 0.5]
    bases /= np.linalg.norm(bases, axis=1, keepdims=True)
    np.save(cache, bases)
    return bases


def part_inputs(args) -> None:
    """``vectors-N.npy`` as ``scale.part_vectors`` makes it (without its ground truth)."""

    n = args.n
    path = scale.vec_path(n)
    info: dict = {"n": n, "loadavg_at_start": loadavg(), "reused": path.exists()}
    t0 = time.perf_counter()
    if not path.exists():
        bases = scale.dedupe(real_bases(args.base_paragraphs))
        info["bases"] = len(bases)
        scale.synthetic_vectors(bases, n, path, args.noise)
    info["inputs_s"] = round(time.perf_counter() - t0, 1)
    write_part("inputs", n, info)


# --- build ---------------------------------------------------------------------------------------


def real_documents(folder: str):
    """Every document of an embedded index as it is stored there: (record, Document, chunks, chunk
    vectors, sentence vectors), ready for ``add_document``. ``folder``: the index or a ``qa eval
    --index-dir`` folder holding one under ``index/``."""
    import numpy as np

    from qa.index.segment import all_vectors
    from qa.index.store import open_index
    from qa.ingest.chunker import Chunk
    from qa.ingest.documents import Document

    path = Path(folder)
    store, _, _ = open_index(path / "index" if (path / "index").is_dir() else path).open()
    try:
        by_id = {}  # every chunk vector, read once per segment as a merge reads them
        for seg in store.segments:
            vectors, ids = all_vectors(seg.vectors)
            by_id.update(zip(ids.tolist(), vectors))
        for rec in store.documents():
            stored = store.chunks(store.chunk_ids_of(rec.source))
            vectors = np.stack([by_id[c.id] for c in stored]).astype(np.float32)
            doc = Document(rec.source, rec.kind, store.document_text(rec.source), store.sections(rec.id), rec.title)
            chunks = [Chunk(c.start, c.end, c.text, c.page, c.heading, list(c.sentences)) for c in stored]
            yield rec, doc, chunks, vectors, [c.sentence_vectors for c in stored]
    finally:
        store.close()


def part_build(args) -> None:
    import numpy as np

    from qa.config import ChunkerSettings
    from qa.index.store import open_index

    n = args.n
    path = store_path(n)
    if path.exists():
        shutil.rmtree(path)
    x = np.load(scale.vec_path(n), mmap_mode="r")
    assert len(x) >= n
    info: dict = {"n": n, "doc_chunks": args.doc_chunks, "loadavg_at_start": loadavg()}
    clock = store_clock()
    texts = raw_texts(n + 2 * UPDATE_CHUNKS)
    t = time.perf_counter()
    texts = _chain(next(texts), texts)  # the first loads and stems the SQuAD train sentences: not product time
    info["load_sentences_s"] = round(time.perf_counter() - t, 1)
    t_all = time.perf_counter()
    gen_s = add_s = 0.0
    index = open_index(path)
    with index.build(ChunkerSettings(), rebuild=True) as build:  # lock, sweep; nothing to verify
        store = build.store()  # a fresh generation folder
        done = sentences_total = 0
        now = time.time()
        for d in range((n + args.doc_chunks - 1) // args.doc_chunks):
            t0 = time.perf_counter()
            m = min(args.doc_chunks, n - done)
            batch = [next(texts) for _ in range(m)]
            doc, chunks = make_document(f"corpus/doc-{d:06d}.txt", batch)
            cvec = np.ascontiguousarray(x[done : done + m])
            svecs = []
            for i, c in enumerate(chunks):
                rows = [(7 * (done + i) + j) % n for j in range(len(c.sentences))]
                svecs.append(x[np.sort(rows)] if len(rows) > 1 else x[rows])
                sentences_total += len(rows)
            sha = f"{d:064x}"
            t1 = time.perf_counter()
            store.add_document(doc, sha256=sha, size=len(doc.text.encode()), mtime=now, indexed_at=now, chunks=chunks,
                               chunk_vectors=cvec, sentence_vectors=svecs)
            t2 = time.perf_counter()
            gen_s += t1 - t0
            add_s += t2 - t1
            done += m
            if done % 100_000 == 0 or done == n:
                el = time.perf_counter() - t_all
                print(f"{done:>8} chunks  {el:6.0f} s  (inputs {gen_s:.0f} s, add_document {add_s:.0f} s)  load {loadavg()}",
                      flush=True)
        if args.real_index:  # the real documents, with their real vectors, among the synthetic ones
            real_docs = real_chunks = 0
            for rec, doc, chunks, cvec, svecs in real_documents(args.real_index):
                doc.source = f"real/{doc.source}"
                store.add_document(doc, sha256=rec.sha256, size=rec.size, mtime=rec.mtime, indexed_at=now,
                                   chunks=chunks, chunk_vectors=cvec, sentence_vectors=svecs)
                real_docs, real_chunks = real_docs + 1, real_chunks + len(chunks)
            info.update(real_index=args.real_index, real_documents=real_docs, real_chunks=real_chunks)
            print(f"+ {real_chunks} real chunks in {real_docs} documents from {args.real_index}", flush=True)
        t0 = time.perf_counter()
        manifest = manifest_for(store, "synthetic: scale_store.py")  # what build_index counts for its manifest
        info["manifest_counts_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        build.commit(manifest)  # save (segment, flat -> IVF past EXACT_MAX, tantivy commit), publish, sweep
        info["commit_s"] = round(time.perf_counter() - t0, 1)
    total = time.perf_counter() - t_all
    # the next texts: the changed files of the updates (their making is not timed there)
    update_texts_path(n).write_text(json.dumps([next(texts) for _ in range(2 * UPDATE_CHUNKS)]))
    info.update(generate_inputs_s=round(gen_s, 1), add_document_s=round(add_s, 1), sentences=sentences_total,
                build_s=round(total - gen_s, 1), wall_s=round(total, 1), build_peak_rss=peak_rss(),
                loadavg_after_build=loadavg(), clock_s=clock.rounded())
    if clock.missing:
        info["clock_missing"] = clock.missing
    info["disk_bytes"] = index.disk_bytes()
    generation = index.version()
    info["generation_bytes"] = grouped_sizes(generation)
    info["files"] = len(file_sizes(generation))
    info["documents"], info["chunks"] = manifest["documents"], manifest["chunks"]
    reader, _, _ = index.open()
    info["vector_index"] = reader.describe_vectors()
    info["tantivy_segments"] = len(reader.lexical.searcher.segment_readers()) if hasattr(
        reader.lexical.searcher, "segment_readers") else None
    reader.close()
    write_part("build", n, info)


# --- ask -----------------------------------------------------------------------------------------


def dev_questions(count: int) -> list:
    """``count`` SQuAD v1.1 dev questions (``question``, ``answers``), a fixed shuffle."""
    from qa.evaluation.squad import load_squad

    qs = list(load_squad(SQUAD_DEV).questions)
    random.Random(0).shuffle(qs)
    return qs[:count]


def part_ask(args) -> None:
    # one thread, as measured elsewhere; set before qa (and onnxruntime / faiss) are imported
    os.environ["QA_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    import gc

    rss0 = rss()
    import faiss  # noqa: F401  (imported before the clock: open_s is the index, not Python imports)
    import tantivy  # noqa: F401

    import qa.index.store_embedded  # noqa: F401
    from qa.answer.pipeline import Answerer
    from qa.evaluation.metrics import exact_match, f1
    from qa.ingest.lexical import query_terms

    n = args.n
    asked = dev_questions(args.questions)
    qs = [q.question for q in asked]
    warm = qs[-10:] if len(qs) > 10 else qs
    gc.collect()
    rss_imported = rss()
    la_open = loadavg()
    t0 = time.perf_counter()
    ans = Answerer(store_path(n))
    open_s = time.perf_counter() - t0
    rss_open = rss()
    t0 = time.perf_counter()
    ans.warm_up()
    warm_s = time.perf_counter() - t0
    rss_loaded = rss()
    # the store alone, opened again (page cache as warm as above), for the split of open_s
    t0 = time.perf_counter()
    again, _, _ = ans.index.open()
    store_open_s = time.perf_counter() - t0
    again.close()
    del again
    info: dict = {
        "n": n,
        "questions": len(qs),
        "threads": {k: os.environ.get(k) for k in ("QA_THREADS", "OMP_NUM_THREADS")},
        "rss_before_import": rss0,
        "rss_after_import": rss_imported,
        "rss_after_open": rss_open,
        "rss_after_warm_up": rss_loaded,
        "open_s": round(open_s, 3),
        "store_open_again_s": round(store_open_s, 3),
        "loadavg_at_open": la_open,
        "warm_up_s": round(warm_s, 2),
        "vector_index": ans.store.describe_vectors(),
        "depth": ans.settings.depth,
        "loadavg_at_start": loadavg(),
        "modes": {},
    }
    print({k: v for k, v in info.items() if k != "modes"}, flush=True)
    # inside the "read" stage: wrap the store's and the reader's calls on these instances (ms per question)
    sub: dict[str, float] = {}

    def timed(obj, name: str, label: str) -> None:
        fn = getattr(obj, name)

        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                sub[label] = sub.get(label, 0.0) + (time.perf_counter() - t) * 1000

        setattr(obj, name, wrapper)

    store = ans.store
    timed(store, "chunks", "read_fetch_chunks")
    timed(store, "dense_scores", "read_dense_scores")
    timed(store, "document_frequencies", "read_document_frequencies")
    timed(store, "sections", "sections_for_citations")
    timed(ans.reader, "run", "read_reader_run")
    for mode in MODES:
        for q in warm:
            ans.ask(q, mode=mode)
        walls, stages, answered, em, f1s = [], {}, 0, 0.0, 0.0
        la0 = loadavg()
        for q, gold in zip(qs, asked):
            sub.clear()
            t = time.perf_counter()
            a = ans.ask(q, mode=mode)
            walls.append((time.perf_counter() - t) * 1000)
            answered += a.answer is not None
            em += exact_match(a.answer, gold.answers)
            f1s += f1(a.answer, gold.answers)
            for k, v in {**a.timings_ms, **sub}.items():
                stages.setdefault(k, []).append(v)
        row = {"ask": pcts(walls), **{k: pcts(v) for k, v in stages.items()}, "answered": answered,
               "loadavg_at_start": la0, "loadavg_at_end": loadavg(), "rss_after": rss()}
        if args.real_index:  # answers mean something only where the questions' documents are indexed
            row.update(em=round(em / len(qs), 4), f1=round(f1s / len(qs), 4))
        info["modes"][mode] = row
        print(mode, json.dumps(row), flush=True)
    # the lexical index alone, as the retriever calls it (depth candidates); its top 10 for the overlap
    qterms = [query_terms(q) for q in qs]
    for t in qterms[-10:]:
        store.lexical_search(t, ans.settings.depth)
    walls, top10 = [], []
    la0 = loadavg()
    for t in qterms:
        s = time.perf_counter()
        hits = store.lexical_search(t, ans.settings.depth)
        walls.append((time.perf_counter() - s) * 1000)
        top10.append([[i, sc] for i, sc in hits[:10]])
    info["modes"]["lexical"] = {"ask": pcts(walls), "loadavg_at_start": la0, "loadavg_at_end": loadavg()}
    print("lexical", json.dumps(info["modes"]["lexical"]), flush=True)
    info["lexical_queries"] = {"terms": qterms, "top10": top10}
    info["rss_at_end"] = rss()
    info["peak_rss"] = peak_rss()
    write_part("ask", n, info)


# --- update --------------------------------------------------------------------------------------


class DiskSampler:
    """The index folder's bytes (``IndexDir.disk_bytes``: each inode once), sampled by a thread every
    ``every`` seconds and on demand (``mark``), keeping the peak."""

    def __init__(self, idx, every: float = 0.02) -> None:
        self.idx, self.every = idx, every
        self.peak, self.samples, self.marks = 0, 0, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def measure(self) -> int:
        for _ in range(5):  # files come and go under rglob (tantivy, sweep): try again
            try:
                b = self.idx.disk_bytes()
            except OSError:
                continue
            self.peak = max(self.peak, b)
            self.samples += 1
            return b
        return 0

    def mark(self, label: str) -> None:
        self.marks[label] = self.measure()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.measure()
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.measure()


def one_update(index, x, n: int, doc: int, texts: list[list[str]], clock: Clock) -> dict:
    """One changed file (``corpus/doc-DOC.txt``: its chunks go, 10 new ones come), timed as ``qa index``
    would spend it, disk sampled."""
    import numpy as np

    from qa.config import ChunkerSettings
    from qa.index import index_dir

    source = f"corpus/doc-{doc:06d}.txt"
    new_doc, chunks = make_document(source, texts)  # the changed file's contents: not timed
    svecs = [np.repeat(x[[i]], len(c.sentences), 0) for i, c in enumerate(chunks)]
    cvecs = np.ascontiguousarray(x[: len(chunks)])
    sha = f"{doc + 1:x}".rjust(64, "f")
    idx = index.dir
    before_bytes = idx.disk_bytes()
    live_bytes = sum(file_sizes(index.version()).values())
    sampler = DiskSampler(idx)
    original_publish = index_dir.IndexDir.publish

    def publish(self, *a, **kw):
        sampler.mark("before_publish")
        try:
            return original_publish(self, *a, **kw)
        finally:
            sampler.mark("after_publish")

    index_dir.IndexDir.publish = publish
    before = dict(clock.s)
    steps: dict[str, float] = {}
    la0 = loadavg()
    try:
        with sampler:
            t_all = time.perf_counter()
            t = t_all
            with index.build(ChunkerSettings()) as build:  # lock, sweep, verify the live generation
                steps["Index.build: lock, sweep, verify, list documents"] = time.perf_counter() - t
                t = time.perf_counter()
                store = build.store()  # hard links to the live generation's files; opens it writable
                steps["Build.store: link the generation, open it"] = time.perf_counter() - t
                t = time.perf_counter()
                removed = store.remove_document(source)
                now = time.time()
                store.add_document(new_doc, sha256=sha, size=len(new_doc.text.encode()), mtime=now, indexed_at=now,
                                   chunks=chunks, chunk_vectors=cvecs, sentence_vectors=svecs)
                steps[f"remove_document + add_document ({len(chunks)} chunks)"] = time.perf_counter() - t
                t = time.perf_counter()
                manifest = manifest_for(store, "synthetic: scale_store.py")
                steps["count documents and chunks (manifest)"] = time.perf_counter() - t
                t = time.perf_counter()
                build.commit(manifest)  # save, publish, sweep
                steps["Build.commit: save, publish, sweep"] = time.perf_counter() - t
            total = time.perf_counter() - t_all
    finally:
        index_dir.IndexDir.publish = original_publish
    clock_s = {k: round(v - before.get(k, 0.0), 3) for k, v in clock.s.items() if v - before.get(k, 0.0) > 0}
    return {
        "source": source, "removed_chunks": removed, "added_chunks": len(chunks),
        "total_s": round(total, 3), "steps_s": {k: round(v, 3) for k, v in steps.items()}, "clock_s": clock_s,
        "disk_bytes_before": before_bytes, "live_generation_bytes_before": live_bytes,
        "peak_disk_bytes": sampler.peak, "peak_disk_ratio": round(sampler.peak / before_bytes, 3),
        "disk_marks": sampler.marks, "disk_samples": sampler.samples, "disk_bytes_after": idx.disk_bytes(),
        "generations_after": sorted(p.name for p in idx.path.iterdir() if p.name.startswith("gen-")),
        "loadavg_at_start": la0, "loadavg_at_end": loadavg(),
    }


def part_update(args) -> None:
    import numpy as np

    from qa.index.store import open_index

    n = args.n
    clock = store_clock()
    index = open_index(store_path(n))
    x = np.load(scale.vec_path(n), mmap_mode="r")
    texts = json.loads(update_texts_path(n).read_text())
    info: dict = {"n": n, "loadavg_at_start": loadavg(), "runs": []}
    for k in range(2):  # the first update, then the steady state (live + previous + new generation)
        run = one_update(index, x, n, k, texts[k * UPDATE_CHUNKS : (k + 1) * UPDATE_CHUNKS], clock)
        print(json.dumps(run), flush=True)
        info["runs"].append(run)
    info["generation_bytes_after"] = grouped_sizes(index.version())
    if clock.missing:
        info["clock_missing"] = clock.missing
    write_part("update", n, info)


# --- overlap -------------------------------------------------------------------------------------


def part_overlap(args) -> None:
    """The reference rankings for the asked questions' terms, over the same chunk texts, without the store
    (so this part may run beside the others): exact BM25 (tantivy's formula, exact lengths), the same on
    tantivy's one-byte lengths, and SQLite FTS5 bm25 (the old store's table, contentless: same ranking)."""
    import sqlite3
    from array import array
    from collections import Counter

    import numpy as np

    from qa.ingest.lexical import query_terms

    n = args.n
    if args.real_index:
        print("overlap: skipped with --real-index (its references cover the synthetic texts only)", flush=True)
        return
    qterms = [query_terms(q.question) for q in dev_questions(args.questions)]
    vocab = {t for ts in qterms for t in ts}
    info: dict = {"n": n, "loadavg_at_start": loadavg(), "query_vocabulary": len(vocab)}
    path = fts_path(n)
    if path.exists():
        path.unlink()
    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; CREATE VIRTUAL TABLE chunks_fts USING"
                     " fts5(terms, content='', tokenize='unicode61 remove_diacritics 2');")
    lengths = np.zeros(n + 1, dtype=np.int32)
    post_ids = {t: array("i") for t in vocab}
    post_tf = {t: array("i") for t in vocab}
    texts = scale.lexical_texts(n)  # the same texts as the build, as the stemmed terms the store indexes
    t0 = time.perf_counter()
    first = next(texts)
    info["load_sentences_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    fts_s = 0.0
    batch = []

    def flush() -> float:
        s = time.perf_counter()
        db.executemany("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", batch)
        batch.clear()
        return time.perf_counter() - s

    for cid, text in enumerate(_chain(first, texts), 1):
        toks = text.split(" ")
        lengths[cid] = len(toks)
        counts = Counter(toks)
        for term in vocab.intersection(counts):
            post_ids[term].append(cid)
            post_tf[term].append(counts[term])
        batch.append((cid, text))
        if len(batch) >= 20_000:
            fts_s += flush()
    fts_s += flush()
    db.commit()
    info["postings_s"] = round(time.perf_counter() - t0 - fts_s, 1)
    info["fts5_build_s"] = round(fts_s, 1)
    info["fts5_bytes"] = path.stat().st_size
    avgdl = float(lengths[1:].sum()) / n
    norm = K1 * (1 - B + B * lengths.astype(np.float64) / avgdl)
    # the same with tantivy's one-byte lengths (a diagnostic: what is left is pruning or ties)
    table = np.array(fieldnorm_table(), dtype=np.int64)
    norm_q = K1 * (1 - B + B * table[np.searchsorted(table, lengths, side="right") - 1] / avgdl)
    posting = {t: (np.frombuffer(post_ids[t], dtype=np.int32), np.frombuffer(post_tf[t], dtype=np.int32).astype(np.float64))
               for t in vocab}
    scores = np.zeros(n + 1, dtype=np.float64)
    scores_q = np.zeros(n + 1, dtype=np.float64)
    exact, quantized, fts, fts_times = [], [], [], []
    for ts in qterms:
        scores[:] = 0.0
        scores_q[:] = 0.0
        touched = []
        for t in ts:
            ids, tf = posting[t]
            if not len(ids):
                continue
            idf = np.log(1 + (n - len(ids) + 0.5) / (len(ids) + 0.5))
            scores[ids] += idf * tf * (K1 + 1) / (tf + norm[ids])
            scores_q[ids] += idf * tf * (K1 + 1) / (tf + norm_q[ids])
            touched.append(ids)
        if not touched:
            exact.append([])
            quantized.append([])
            fts.append([])
            continue
        cand = np.unique(np.concatenate(touched))
        exact.append(cand[np.lexsort((cand, -scores[cand]))[:10]].tolist())
        quantized.append(cand[np.lexsort((cand, -scores_q[cand]))[:10]].tolist())
        s = time.perf_counter()
        fts.append([r[0] for r in db.execute(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT 10", (fts_query(ts),))])
        fts_times.append((time.perf_counter() - s) * 1000)
    db.close()
    info.update(terms=qterms, exact=exact, quantized=quantized, fts5=fts, fts5_query_ms=pcts(fts_times),
                avg_length=round(avgdl, 2))
    if not args.keep:
        path.unlink()
    write_part("overlap", n, info)


def overlaps(n: int) -> dict:
    """Mean |store top 10 ∩ reference top 10| / 10 over the questions with terms (the ask part's top 10s
    against the overlap part's references)."""
    a, o = read_part("ask", n), read_part("overlap", n)
    if not a or not o or (read_part("build", n) or {}).get("real_chunks"):
        return {}  # the references cover the synthetic texts only: no overlap where real documents were added
    store = [[i for i, _ in top] for top in a["lexical_queries"]["top10"]]
    assert a["lexical_queries"]["terms"] == o["terms"], "ask and overlap parts asked different questions"

    def mean(ref: list[list[int]], mine: list[list[int]]) -> tuple[float, int]:
        vals = [len(set(m) & set(r)) / min(10, len(r)) for m, r in zip(mine, ref) if r]
        return round(sum(vals) / len(vals), 4), sum(v < 1 for v in vals)

    out = {}
    out["lexical_top10_overlap"], out["below_1"] = mean(o["exact"], store)
    out["lexical_top10_overlap_fts5"], _ = mean(o["fts5"], store)
    out["lexical_top10_overlap_quantized_lengths"], _ = mean(o["quantized"], store)
    out["fts5_top10_overlap_with_exact"], _ = mean(o["exact"], o["fts5"])
    out["questions"] = sum(1 for r in o["exact"] if r)
    return out


def fieldnorm_table() -> list[int]:
    """tantivy's one-byte document lengths (``fieldnorm/code.rs``): exact to 40, then 8 steps of 2, 8 of 4,
    8 of 8 and so on; a length is stored as the largest value not above it."""
    table, step = list(range(41)), 2
    while len(table) < 256:
        for _ in range(8):
            table.append(table[-1] + step)
        step *= 2
    return table[:256]


def fts_query(query: list[str]) -> str:
    """The FTS5 MATCH expression the store used before tantivy: the quoted terms ORed."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in query)


def _chain(first, rest):
    yield first
    yield from rest


# --- report --------------------------------------------------------------------------------------


def gib(b) -> str:
    return "—" if b is None else f"{b / 2**30:.2f}"


def summary(n: int) -> dict:
    """The one JSON object of a run."""
    b, a, u = (read_part(k, n) or {} for k in ("build", "ask", "update"))
    o = overlaps(n)
    runs = u.get("runs", [])
    names = ("first", "second")
    modes = a.get("modes", {})

    def pct(p: str) -> dict:
        return {m: rnd(modes[m]["ask"][p], 2) for m in (*MODES, "lexical") if m in modes}

    return {
        "chunks": b.get("chunks"),
        "build_s": b.get("build_s"),
        "open_s": a.get("open_s"),
        "update_one_file_s": {k: r["total_s"] for k, r in zip(names, runs)},
        "disk_bytes": b.get("disk_bytes"),
        "peak_disk_bytes_during_update": {k: r["peak_disk_bytes"] for k, r in zip(names, runs)},
        "peak_disk_ratio": {k: r["peak_disk_ratio"] for k, r in zip(names, runs)},
        "rss_bytes": a.get("peak_rss"),
        "p50_ms": pct("p50"),
        "p95_ms": pct("p95"),
        "lexical_top10_overlap": o.get("lexical_top10_overlap"),
        "lexical_top10_overlap_fts5": o.get("lexical_top10_overlap_fts5"),
        **({"real_chunks": b["real_chunks"],
            "answers_at_default_threshold": {m: {k: modes[m][k] for k in ("answered", "em", "f1")}
                                             for m in MODES if "f1" in modes.get(m, {})}}
           if b.get("real_chunks") else {}),
    }


def part_report(args) -> None:
    n = args.n
    parts = {k: read_part(k, n) for k in ("inputs", "build", "ask", "update", "overlap") if read_part(k, n)}
    md = []
    b = parts.get("build")
    if b:
        c = b["clock_s"]
        md.append(f"Build, {b['chunks']:,} chunks in {b['documents']:,} documents ({b['sentences']:,} sentence vectors), "
                  f"{b['vector_index']}; load average {b['loadavg_at_start']} → {b['loadavg_after_build']}:\n")
        md.append("| step | s |\n|---|---|")
        md.append(f"| add_document (SQLite rows, sentence vectors, flat vectors, stemming + tantivy adds) | {b['add_document_s']:.0f} |")
        md.append(f"| save: segment (SQLite commit, read back {c.get('save_all_vectors', 0):.0f} s, IVF train {c.get('save_ivf_train', 0):.0f} s, "
                  f"IVF train + add {c.get('save_ivf_build', 0):.0f} s, write FAISS {c.get('save_write_faiss', 0):.0f} s) | {c.get('save_segment', 0):.0f} |")
        md.append(f"| save: tantivy commit (+ merges) | {c.get('save_tantivy_commit', 0):.0f} |")
        md.append(f"| publish (sha256 {c.get('sha256', 0):.0f} s, fsync {c.get('fsync', 0):.0f} s) | {c.get('publish', 0):.0f} |")
        md.append(f"| build_s (all but making the inputs) | {b['build_s']:.0f} |")
        md.append(f"| making the inputs (texts, vector rows; not product time) | {b['generate_inputs_s']:.0f} |")
        md.append("")
        md.append("| files | GiB |\n|---|---|")
        for name, size in b["generation_bytes"].items():
            md.append(f"| {name} | {gib(size)} |")
        md.append(f"\nBuild peak RSS {gib(b['build_peak_rss'])} GiB.\n")
    a = parts.get("ask")
    if a:
        md.append(
            f"Asking ({a['questions']} SQuAD dev questions per mode, one at a time, QA_THREADS=1): `Answerer(index)` "
            f"{a['open_s']:.2f} s (load {a['loadavg_at_open'][0]}; the store alone again {a['store_open_again_s']:.2f} s), "
            f"model warm-up {a['warm_up_s']:.1f} s; RSS after open {gib(a['rss_after_open'])} GiB, after warm-up "
            f"{gib(a['rss_after_warm_up'])} GiB, at the end {gib(a['rss_at_end'])} GiB, peak {gib(a['peak_rss'])} GiB:\n"
        )
        md.append("| mode | ask p50 | ask p95 | embed p50 | dense p50 | bm25 p50 | bm25 p95 | read p50 | read p95 | "
                  "of read: reader p50 | load avg |")
        md.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for mode, r in a["modes"].items():
            def g(k, p="p50", r=r):
                return fmt(r.get(k, {}).get(p), 1)
            md.append(
                f"| {mode} | {g('ask')} | {g('ask', 'p95')} | {g('embed')} | {g('dense')} | {g('bm25')} | {g('bm25', 'p95')}"
                f" | {g('read')} | {g('read', 'p95')} | {g('read_reader_run')} | {r['loadavg_at_start'][0]}–{r['loadavg_at_end'][0]} |"
            )
        md.append("\n(lexical: `store.lexical_search(query_terms(q), depth)` alone; ms.)\n")
    u = parts.get("update")
    if u:
        md.append("One changed file (−100 +10 chunks), twice:\n")
        md.append("| | first | second |\n|---|---|---|")
        runs = u["runs"]
        for k in runs[0]["steps_s"]:
            md.append(f"| {k} | " + " | ".join(f"{r['steps_s'].get(k, 0):.3f}" for r in runs) + " |")
        for k in ("verify", "start_generation", "save", "save_tantivy_commit", "save_segment", "publish", "sha256",
                  "fsync", "sweep"):
            md.append(f"| (clock) {k} | " + " | ".join(f"{r['clock_s'].get(k, 0):.3f}" for r in runs) + " |")
        md.append("| total s | " + " | ".join(f"**{r['total_s']:.2f}**" for r in runs) + " |")
        md.append("| folder GiB before | " + " | ".join(gib(r["disk_bytes_before"]) for r in runs) + " |")
        md.append("| peak GiB (ratio) | " + " | ".join(f"{gib(r['peak_disk_bytes'])} ({r['peak_disk_ratio']:.3f})" for r in runs) + " |")
        md.append("| load average | " + " | ".join(f"{r['loadavg_at_start'][0]}–{r['loadavg_at_end'][0]}" for r in runs) + " |")
    o = overlaps(n)
    if o:
        q = parts["overlap"]
        md.append(f"\nLexical top 10 over {o['questions']} questions: overlap with exact BM25 {o['lexical_top10_overlap']:.4f} "
                  f"({o['below_1']} questions below 1; with exact BM25 on tantivy's one-byte lengths "
                  f"{o['lexical_top10_overlap_quantized_lengths']:.4f}), with FTS5 bm25 {o['lexical_top10_overlap_fts5']:.4f}; "
                  f"FTS5 with exact {o['fts5_top10_overlap_with_exact']:.4f}; FTS5 query p50 {fmt(q['fts5_query_ms']['p50'], 1)} ms.")
    text = "\n".join(md)
    result = {**provenance(), "n": n, "summary": summary(n), "overlap": o, "parts": parts}
    save(f"scale-store-{n}", result, text)


PARTS = {"inputs": part_inputs, "build": part_build, "ask": part_ask, "update": part_update,
         "overlap": part_overlap, "report": part_report}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true", help="print one JSON object of the figures on stdout")
    ap.add_argument("--doc-chunks", type=int, default=100, help="chunks per document")
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--base-paragraphs", type=int, default=1000, help="SQuAD train paragraphs embedded as bases")
    ap.add_argument("--noise", type=float, default=0.7)
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--keep", action="store_true", help="keep the index folder and the FTS5 side database")
    ap.add_argument("--real-index", default=None, metavar="DIR",
                    help="also index the documents of this SQuAD v1.1 dev index (`qa eval --index-dir`), real vectors and all")
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    SCALE.mkdir(parents=True, exist_ok=True)
    if args.child:
        PARTS[args.child](args)
        return
    t0 = time.perf_counter()
    for part in args.parts.split(","):
        print(f"== {part} (load {loadavg()}, {time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--child", part, *sys.argv[1:]]
        subprocess.run(cmd, check=True, stdout=sys.stderr if args.json else None)
    print(f"== done in {time.perf_counter() - t0:.0f} s (load {loadavg()})", file=sys.stderr, flush=True)
    path = store_path(args.n)
    if path.exists() and not args.keep and "build" in args.parts.split(","):
        print(f"deleting {path}", file=sys.stderr, flush=True)
        shutil.rmtree(path)
    if args.json:
        print(json.dumps(summary(args.n)), flush=True)


if __name__ == "__main__":
    main()
