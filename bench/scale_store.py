"""The embedded store end to end at 1,000,000 chunks: build, ask, update, with the product's own code.

``bench/scale.py`` measured the vector index kinds in isolation; this builds a real index folder the way
``qa index --rebuild`` would, through the store boundary (``open_index`` -> ``Index.build`` ->
``Build.store().add_document`` -> ``Build.commit(manifest)``), minus the embedder, and asks it real
questions with ``Answerer``. Steps inside ``commit`` are timed by wrapping functions of the store's
modules (``Clock``), without changing them.

- texts: the chunk-sized texts of ``bench/scale.py``'s lexical part (SQuAD v1.1 *train* sentences
  recombined at random, same seed and so the same texts as its ``fts-1000000`` index), as raw
  sentences, so the product stems and indexes them itself;
  ``--doc-chunks`` consecutive texts make one ``.txt`` document (joined by blank lines), each text one
  chunk, its sentences the chunk's sentence spans;
- vectors: the synthetic-from-real ``vectors-N.npy`` of ``bench/scale.py`` (chunk i gets row i); each
  sentence gets a float16 vector too, as the real indexer stores (row ``(7 i + j) mod N`` for sentence j
  of chunk i: only the size matters). Answers are therefore meaningless: only time, memory and disk count;
- ask: a fresh process with ``QA_THREADS=1 OMP_NUM_THREADS=1``, ``Answerer(index)`` (which checks the
  files' sha256 on open), ``--questions`` real SQuAD v1.1 dev questions (seed 0) one at a time per mode;
- update: what ``qa index`` does when one file changed at 1M chunks: ``Index.build`` (lock, sweep,
  verify the live generation's sha256), ``Build.store`` (copies meta.sqlite and vectors.faiss),
  ``remove_document`` + ``add_document`` of one document, ``Build.commit`` (save, publish, sweep).

Usage: .venv/bin/python bench/scale_store.py [--n 1000000] [--doc-chunks 100] [--questions 300]
       [--parts build,ask,update,report] [--keep]
Index: bench/out/scale/store-N/ (deleted at the end when over 10 GB unless --keep);
results: bench/out/scale-store-N.json / .md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale
from common import OUT, ROOT, SQUAD_DEV, fmt, pcts, provenance, save
from scale import loadavg, make_document, manifest_for, peak_rss, rss

SCALE = OUT / "scale"
SQUAD_TRAIN = ROOT.parent / "shared" / "data" / "squad-v1.1-train.reconstructed.json.gz"
DIM = 384


def part_file(name: str, n: int) -> Path:
    return scale.part_file(name, n, "part-store")


def write_part(name: str, n: int, data: dict) -> None:
    scale.write_part(name, n, data, "part-store")


def store_path(n: int) -> Path:
    return SCALE / f"store-{n}"


def raw_texts(n: int, words: int = 150):
    """The texts of ``scale.sentence_windows`` (same sentences, same random choices, so the same texts as
    scale.py's lexical index fts-N), as lists of raw sentences."""
    for parts in scale.sentence_windows(n, words):
        yield [raw for raw, _ in parts]


class Clock:
    """Wrap public functions of modules (or methods of classes) to add up the time spent in them (the
    product's code is not changed). A name that is gone is left out of the breakdown (``missing``)."""

    def __init__(self) -> None:
        self.s: dict[str, float] = {}
        self.missing: list[str] = []

    def wrap(self, module, name: str, label: str | None = None) -> None:
        label = label or name
        fn = getattr(module, name, None)
        if fn is None:
            self.missing.append(f"{module.__name__}.{name}")
            return

        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.s[label] = self.s.get(label, 0.0) + time.perf_counter() - t

        setattr(module, name, timed)

    def rounded(self) -> dict:
        return {k: round(v, 2) for k, v in self.s.items()}

    def get(self, label: str) -> float:
        return self.s.get(label, 0.0)


def file_sizes(folder: Path) -> dict:
    return {f.name: f.stat().st_size for f in sorted(folder.iterdir()) if f.is_file()}


# --- build ---------------------------------------------------------------------------------------


def commit_clock() -> Clock:
    """A clock on what ``Build.commit`` runs in the embedded store: save (SQLite commit, then rebuilding
    the vector index when it outgrew its kind, writing vectors.faiss), publish (sha256, fsync, rename,
    CURRENT) and sweep."""
    import faiss

    import qa.index.store_embedded as se
    import qa.index.vector_index as vi
    from qa.index import index_dir

    clock = Clock()
    clock.wrap(se.EmbeddedStore, "save", "save")
    clock.wrap(se, "all_vectors", "save_all_vectors")
    clock.wrap(vi, "train", "save_ivf_train")
    clock.wrap(vi, "build", "save_ivf_build")  # train + add_with_ids
    clock.wrap(faiss, "write_index", "save_write_faiss")
    clock.wrap(index_dir.IndexDir, "publish", "publish")
    clock.wrap(index_dir, "sha256_file", "publish_sha256")
    clock.wrap(os, "fsync", "publish_fsync")
    clock.wrap(index_dir.IndexDir, "sweep", "sweep")
    return clock


def save_parts(clock: Clock) -> tuple[float | None, float]:
    """(SQLite commit s, FAISS s) inside ``save``: the FAISS steps are timed, the commit is the rest."""
    faiss_s = clock.get("save_all_vectors") + clock.get("save_ivf_build") + clock.get("save_write_faiss")
    if "save" not in clock.s:
        return None, faiss_s
    return clock.get("save") - faiss_s, faiss_s


def rnd(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(x, nd)


def part_build(args) -> None:
    import numpy as np

    from qa.config import ChunkerSettings
    from qa.index.store import open_index

    n = args.n
    path = store_path(n)
    if path.exists():
        shutil.rmtree(path)
    x = np.load(SCALE / f"vectors-{n}.npy", mmap_mode="r")
    assert len(x) >= n
    info: dict = {"n": n, "doc_chunks": args.doc_chunks, "loadavg_at_start": loadavg()}
    t_all = time.perf_counter()
    index = open_index(path)
    with index.build(ChunkerSettings(), rebuild=True) as build:  # lock, sweep; nothing to verify
        store = build.store()  # a fresh generation folder and its SQLite database
        gen_s = add_s = 0.0
        texts = raw_texts(n)
        t = time.perf_counter()
        done = 0
        sentences_total = 0
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
            if done % 50_000 == 0 or done == n:
                el = time.perf_counter() - t
                print(f"{done:>8} chunks  {el:7.0f} s  (texts {gen_s:.0f} s, add_document {add_s:.0f} s)  load {loadavg()}", flush=True)
        info["texts_first_s_note"] = "text generation includes loading and stemming the SQuAD train sentences once"
        info.update(generate_inputs_s=round(gen_s, 1), add_document_s=round(add_s, 1), sentences=sentences_total)
        t0 = time.perf_counter()
        manifest = manifest_for(store, "synthetic: scale_store.py")  # what build_index counts for its manifest
        info["manifest_counts_s"] = round(time.perf_counter() - t0, 1)
        clock = commit_clock()
        t0 = time.perf_counter()
        build.commit(manifest)  # save (SQLite commit; flat -> IVF when past EXACT_MAX; vectors.faiss), publish, sweep
        info["commit_s"] = round(time.perf_counter() - t0, 1)
    info["build_peak_rss"] = peak_rss()
    info["total_s"] = round(time.perf_counter() - t_all, 1)
    commit_s, faiss_s = save_parts(clock)
    info["sqlite_commit_s"] = rnd(commit_s)
    info["save_s"] = round(faiss_s, 1)
    info["publish_s"] = rnd(clock.s.get("publish"))
    info["clock_s"] = clock.rounded()
    if clock.missing:
        info["clock_missing"] = clock.missing
    reader, _, _ = index.open()  # after the clock: checks every file's sha256 and loads vectors.faiss
    info["vector_index"] = reader.describe_vectors()
    reader.close()
    info["files"] = file_sizes(path / index.version_name())
    info["documents"], info["chunks"] = manifest["documents"], manifest["chunks"]
    write_part("build", n, info)


# --- ask -----------------------------------------------------------------------------------------


def part_ask(args) -> None:
    # one thread, as measured elsewhere; set before qa (and onnxruntime / faiss) are imported
    os.environ["QA_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    import gc

    rss0 = rss()
    from qa.answer.pipeline import Answerer
    from qa.evaluation.squad import load_squad

    n = args.n
    squad = load_squad(SQUAD_DEV)
    qs = [q.question for q in squad.questions]
    random.Random(0).shuffle(qs)
    qs = qs[: args.questions]
    warm = qs[-10:] if len(qs) > 10 else qs
    gc.collect()
    rss_imported = rss()
    t0 = time.perf_counter()
    ans = Answerer(store_path(n))
    open_s = time.perf_counter() - t0
    rss_open = rss()
    t0 = time.perf_counter()
    ans.warm_up()
    warm_s = time.perf_counter() - t0
    rss_loaded = rss()
    info: dict = {
        "n": n,
        "questions": len(qs),
        "threads": {k: os.environ.get(k) for k in ("QA_THREADS", "OMP_NUM_THREADS")},
        "rss_before_import": rss0,
        "rss_after_import": rss_imported,
        "rss_after_open": rss_open,
        "rss_after_warm_up": rss_loaded,
        "open_s": round(open_s, 1),
        "warm_up_s": round(warm_s, 1),
        "vector_index": ans.store.describe_vectors(),
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

    timed(ans.store, "chunks", "read_fetch_chunks")
    timed(ans.store, "dense_scores", "read_dense_scores")
    timed(ans.store, "document_frequencies", "read_document_frequencies")
    timed(ans.store, "sections", "sections_for_citations")
    timed(ans.reader, "run", "read_reader_run")
    for mode in ("dense", "bm25", "hybrid"):
        for q in warm:
            ans.ask(q, mode=mode)
        walls, stages, answered = [], {}, 0
        la0 = loadavg()
        for q in qs:
            sub.clear()
            t = time.perf_counter()
            a = ans.ask(q, mode=mode)
            walls.append((time.perf_counter() - t) * 1000)
            answered += a.answer is not None
            for k, v in {**a.timings_ms, **sub}.items():
                stages.setdefault(k, []).append(v)
        row = {"ask": pcts(walls), **{k: pcts(v) for k, v in stages.items()}, "answered": answered,
               "loadavg_at_start": la0, "loadavg_at_end": loadavg(), "rss_after": rss()}
        info["modes"][mode] = row
        print(mode, json.dumps(row), flush=True)
    info["rss_at_end"] = rss()
    info["peak_rss"] = peak_rss()
    write_part("ask", n, info)


# --- update --------------------------------------------------------------------------------------


def part_update(args) -> None:
    import numpy as np

    from qa.config import ChunkerSettings
    from qa.index.store import open_index

    n = args.n
    clock = commit_clock()
    index = open_index(store_path(n))
    x = np.load(SCALE / f"vectors-{n}.npy", mmap_mode="r")
    info: dict = {"n": n, "loadavg_at_start": loadavg()}
    steps: dict[str, float] = {}
    t_all = time.perf_counter()
    t = time.perf_counter()
    with index.build(ChunkerSettings()) as build:  # lock, sweep, verify the live generation (sha256)
        steps["open_build (lock, sweep, verify sha256 of live generation, list documents)"] = time.perf_counter() - t
        t = time.perf_counter()
        store = build.store()  # a private copy of the live generation (meta.sqlite and vectors.faiss)
        steps["start_generation (copy files) + open store"] = time.perf_counter() - t
        # one file changed: its old chunks go, its new text (10 chunks) comes in
        t = time.perf_counter()
        source = "corpus/doc-000000.txt"
        removed = store.remove_document(source)
        texts = [s for s, _ in zip(raw_texts(10), range(10))]
        doc, chunks = make_document(source, texts)
        rows = list(range(10))
        svecs = [np.repeat(x[[i]], len(c.sentences), 0) for i, c in zip(rows, chunks)]
        t_gen = time.perf_counter()
        now = time.time()
        store.add_document(doc, sha256="f" * 64, size=len(doc.text), mtime=now, indexed_at=now, chunks=chunks,
                           chunk_vectors=np.ascontiguousarray(x[:10]), sentence_vectors=svecs)
        steps["remove_document + add_document (10 chunks)"] = time.perf_counter() - t_gen
        info["text_generation_s_excluded"] = round(t_gen - t, 1)
        t = time.perf_counter()
        manifest = manifest_for(store, "synthetic: scale_store.py")
        steps["count documents and chunks (manifest)"] = time.perf_counter() - t
        before = dict(clock.s)
        t = time.perf_counter()
        build.commit(manifest)
        commit_s = time.perf_counter() - t
        in_commit = {k: v - before.get(k, 0.0) for k, v in clock.s.items()}
        if all(k in in_commit for k in ("save", "publish", "sweep")):
            steps["save (commit SQLite, write vectors.faiss)"] = in_commit["save"]
            steps["publish (fsync, sha256, rename, CURRENT)"] = in_commit["publish"]
            steps["sweep"] = in_commit["sweep"]
            steps["commit, rest (close the store)"] = commit_s - in_commit["save"] - in_commit["publish"] - in_commit["sweep"]
        else:
            steps["commit (save, publish, sweep)"] = commit_s
    total = time.perf_counter() - t_all - float(info["text_generation_s_excluded"])
    info.update(
        removed_chunks=removed,
        added_chunks=len(chunks),
        steps_s={k: round(v, 2) for k, v in steps.items()},
        total_s=round(total, 1),
        clock_s={"sha256": round(clock.get("publish_sha256"), 2), "fsync": round(clock.get("publish_fsync"), 2),
                 "write_faiss": round(clock.get("save_write_faiss"), 2)},
        generations=sorted(p.name for p in store_path(n).iterdir() if p.name.startswith("gen-")),
        files=file_sizes(store_path(n) / index.version_name()),
    )
    if clock.missing:
        info["clock_missing"] = clock.missing
    write_part("update", n, info)


# --- report --------------------------------------------------------------------------------------


def gib(b) -> str:
    return "—" if b is None else f"{b / 2**30:.2f}"


def part_report(args) -> None:
    n = args.n
    parts = {k: json.loads(part_file(k, n).read_text()) for k in ("build", "ask", "update") if part_file(k, n).exists()}
    md = []
    b = parts.get("build")
    if b:
        c = b["clock_s"]
        md.append(f"Build, {b['chunks']:,} chunks in {b['documents']:,} documents ({b['sentences']:,} sentence vectors), {b['vector_index']}:\n")
        md.append("| step | s |\n|---|---|")
        md.append(f"| add_document (SQLite rows + FTS5 terms + flat vectors), one transaction | {b['add_document_s']:.0f} |")
        md.append(f"| commit | {fmt(b['sqlite_commit_s'], 0)} |")
        md.append(f"| save: read back the flat vectors | {c.get('save_all_vectors', 0):.0f} |")
        md.append(f"| save: IVF train | {c.get('save_ivf_train', 0):.0f} |")
        md.append(f"| save: IVF add | {c.get('save_ivf_build', 0) - c.get('save_ivf_train', 0):.0f} |")
        md.append(f"| save: write vectors.faiss | {c.get('save_write_faiss', 0):.0f} |")
        md.append(f"| publish (fsync {c.get('publish_fsync', 0):.0f} s, sha256 {c.get('publish_sha256', 0):.0f} s) | {fmt(b['publish_s'], 0)} |")
        md.append(f"| total (incl. {b['generate_inputs_s']:.0f} s making the inputs, not product time) | {b['total_s']:.0f} |")
        md.append("")
        md.append("| file | GiB |\n|---|---|")
        for name, size in b["files"].items():
            md.append(f"| {name} | {gib(size)} |")
        md.append(f"\nBuild peak RSS {gib(b['build_peak_rss'])} GiB; load average {b['loadavg_at_start']} → {b['loadavg_at_end']}.\n")
    a = parts.get("ask")
    if a:
        md.append(
            f"Asking ({a['questions']} SQuAD dev questions per mode, one at a time, QA_THREADS=1; open incl. sha256 check "
            f"{a['open_s']:.0f} s; RSS after loading {gib(a['rss_after_warm_up'])} GiB, at the end {gib(a['rss_at_end'])} GiB, peak {gib(a['peak_rss'])} GiB):\n"
        )
        md.append("| mode | ask p50 | ask p95 | embed p50 | dense p50 | bm25 p50 | bm25 p95 | fuse p50 | read p50 | read p95 | load avg |")
        md.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for mode, r in a["modes"].items():
            def g(k, p="p50", r=r):
                return fmt(r.get(k, {}).get(p), 1)
            md.append(
                f"| {mode} | {g('ask')} | {g('ask', 'p95')} | {g('embed')} | {g('dense')} | {g('bm25')} | {g('bm25', 'p95')}"
                f" | {g('fuse')} | {g('read')} | {g('read', 'p95')} | {r['loadavg_at_start'][0]}–{r['loadavg_at_end'][0]} |"
            )
        md.append("\nInside *read* (p50 / p95 ms): " + "; ".join(
            f"{mode}: reader {fmt(r['read_reader_run']['p50'], 1)} / {fmt(r['read_reader_run']['p95'], 1)}, "
            f"FTS5 document frequencies {fmt(r['read_document_frequencies']['p50'], 1)} / {fmt(r['read_document_frequencies']['p95'], 1)}, "
            f"fetch chunks {fmt(r['read_fetch_chunks']['p50'], 1)} / {fmt(r['read_fetch_chunks']['p95'], 1)}"
            + (f", dense_scores {fmt(r['read_dense_scores']['p50'], 1)}" if "read_dense_scores" in r else "")
            for mode, r in a["modes"].items() if "read_reader_run" in r))
        md.append("\n(ms; answers are meaningless with synthetic vectors: only time and memory count.)\n")
    u = parts.get("update")
    if u:
        md.append(f"One changed file at {n:,} chunks (-{u['removed_chunks']} +{u['added_chunks']} chunks), total {u['total_s']:.0f} s:\n")
        md.append("| step | s |\n|---|---|")
        for k, v in u["steps_s"].items():
            md.append(f"| {k} | {v:.1f} |")
        md.append(f"\n(sha256 {u['clock_s'].get('sha256', 0):.0f} s, fsync {u['clock_s'].get('fsync', 0):.0f} s in all; load average {u['loadavg_at_start']} → {u['loadavg_at_end']}.)")
    text = "\n".join(md)
    save(f"scale-store-{n}", {**provenance(), "n": n, "parts": parts}, text)


def run_child(part: str) -> None:
    scale.run_child(part, script=__file__)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--doc-chunks", type=int, default=100, help="chunks per document")
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--parts", default="build,ask,update,report")
    ap.add_argument("--keep", action="store_true", help="keep the index folder even when over 10 GB")
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    if args.child:
        {"build": part_build, "ask": part_ask, "update": part_update, "report": part_report}[args.child](args)
        return
    for part in args.parts.split(","):
        run_child(part)
    path = store_path(args.n)
    if path.exists() and not args.keep:
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        if size > 10 * 2**30:
            print(f"deleting {path} ({size / 2**30:.1f} GiB > 10 GiB)", flush=True)
            shutil.rmtree(path)


if __name__ == "__main__":
    main()
