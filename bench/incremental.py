"""Bench 4: incremental re-indexing of a 500-file folder (one SQuAD v1.1 dev paragraph per file):
no change, one file changed, one file deleted, one file added, against a full rebuild.

    .venv/bin/python bench/incremental.py [--files 500]

Each case is timed twice: through the library (`build_index` with the model already loaded, as a
long-running process such as `qa serve` would) and as the `qa index` command in a fresh process
(Python start, imports and, when something must be embedded, loading the model, included).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SQUAD_DEV, provenance, save


def cli_index(corpus: Path, index: Path, *extra: str) -> tuple[float, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "qa", "index", str(corpus), "--index", str(index), "-q", *extra],
                       cwd=ROOT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"qa index failed: {r.stderr}")
    return seconds, r.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(SQUAD_DEV))
    ap.add_argument("--files", type=int, default=500)
    args = ap.parse_args()

    from qa import build_index
    from qa.evaluation.squad import document_texts, load_squad
    from qa.index.embedder import Embedder

    prov = provenance()
    docs = document_texts(load_squad(args.data), "paragraph")
    sources = sorted(docs)[: args.files]
    work = Path(tempfile.mkdtemp(prefix="qa-bench-incr-"))
    corpus, lib_index, cli_idx = work / "corpus", work / "index-lib", work / "index-cli"
    for s in sources:
        path = corpus / s.replace("/", "__")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(docs[s], encoding="utf-8")
    files = sorted(corpus.iterdir())
    embedder = Embedder()
    embedder.load()


    def lib(label: str, **kw):
        t = time.perf_counter()
        report = build_index(corpus, lib_index, embedder=embedder, progress=False, **kw)
        seconds = time.perf_counter() - t
        print(f"library {label}: {seconds:.2f} s  {report.summary()}", flush=True)
        return seconds, report

    try:
        first_s, first = lib("first build")
        cli_index(corpus, cli_idx)  # the CLI's own index, built once (not timed)
        cases = []

        def case(label: str, change) -> None:
            change()
            lib_s, report = lib(label)
            cli_s, cli_out = cli_index(corpus, cli_idx)
            print(f"cli     {label}: {cli_s:.2f} s  {cli_out}", flush=True)
            cases.append({
                "case": label, "library_seconds": lib_s, "cli_seconds": cli_s,
                "added": len(report.added), "updated": len(report.updated), "removed": len(report.removed),
                "unchanged": len(report.unchanged), "chunks_added": report.chunks_added,
                "chunks_removed": report.chunks_removed, "model_loaded": report.model_loaded,
            })

        victim, doomed = files[len(files) // 2], files[-1]
        saved = doomed.read_text(encoding="utf-8")
        case("no change", lambda: None)
        def change_one() -> None:
            victim.write_text(victim.read_text(encoding="utf-8") + "\n\nOne more sentence here.", encoding="utf-8")

        case("one file changed", change_one)
        case("one file deleted", doomed.unlink)
        case("one file added", lambda: doomed.write_text(saved, encoding="utf-8"))
        t = time.perf_counter()
        rebuilt = build_index(corpus, lib_index, rebuild=True, embedder=embedder, progress=False)
        rebuild_lib = time.perf_counter() - t
        rebuild_cli, _ = cli_index(corpus, cli_idx, "--rebuild")
        print(f"full rebuild: library {rebuild_lib:.2f} s, cli {rebuild_cli:.2f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = ["| case | library s | `qa index` s (fresh process) | added / updated / removed / unchanged "
             "| chunks embedded | model loaded |", "|---|---|---|---|---|---|"]
    for c in cases:
        counts = f"{c['added']} / {c['updated']} / {c['removed']} / {c['unchanged']}"
        lines.append(f"| {c['case']} | {c['library_seconds']:.2f} | {c['cli_seconds']:.2f} | {counts} "
                     f"| {c['chunks_added']} | {'yes' if c['model_loaded'] else 'no'} |")
    lines.append(f"| full rebuild (`--rebuild`) | {rebuild_lib:.2f} | {rebuild_cli:.2f} | {len(rebuilt.added)} / 0 / 0 / 0 "
                 f"| {rebuilt.chunks_added} | yes |")
    lines.append("")
    lines.append(f"{len(files)} files, {rebuilt.chunks} chunks; first build {first_s:.1f} s (library).")
    save("incremental", {"bench": "incremental", **prov, "files": len(files), "chunks": rebuilt.chunks,
                         "first_build_seconds": first_s, "cases": cases,
                         "rebuild_library_seconds": rebuild_lib, "rebuild_cli_seconds": rebuild_cli}, "\n".join(lines))


if __name__ == "__main__":
    main()
