"""Bench 2: index build throughput. Our `build_index` against bare `SentenceTransformer.encode` of the
very same chunk texts (the chunker's output on the same documents), in the same process and run.

    .venv/bin/python bench/build_throughput.py [--articles N] [--repeat R] [--tag T]

ratio = bare seconds / our seconds (goal >= 1.15: our build, ONNX Runtime with one single-thread batch per
core, must beat the bare torch encoder with its default threads). The corpus is SQuAD v1.1 dev written
as one document per article, exactly as `qa eval` writes it. Needs the torch extra (for the baseline).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from common import SQUAD_DEV, provenance, save


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(SQUAD_DEV))
    ap.add_argument("--articles", type=int, default=None, help="only the first N articles (quick runs)")
    ap.add_argument("--tag", default=None, help="output bench/out/build_throughput-TAG.{json,md}")
    ap.add_argument("--repeat", type=int, default=1, help="alternate bare / ours R times; the best of each is kept")
    args = ap.parse_args()

    from qa import build_index
    from qa.evaluation.squad import load_squad, write_corpus
    from qa.index.embedder import Embedder
    from qa.ingest.chunker import chunk_document
    from qa.ingest.documents import load_document
    from qa.ingest.tokens import wordpiece_tokenizer

    prov = provenance()
    squad = load_squad(args.data)
    if args.articles:
        squad.titles = squad.titles[: args.articles]
        squad.paragraphs = [p for p in squad.paragraphs if p.article < args.articles]
    work = Path(tempfile.mkdtemp(prefix="qa-bench-build-"))
    try:
        corpus = work / "corpus"
        docs = write_corpus(squad, corpus)
        texts = []
        for source in sorted(docs):
            doc = load_document(corpus / source, source)
            texts += [c.text for c in chunk_document(doc)]
        wordpieces = sum(len(e.ids) for e in wordpiece_tokenizer().encode_batch(texts))

        from sentence_transformers import SentenceTransformer

        from qa.inference.model_files import embedder_weights

        embedder = Embedder()
        t = time.perf_counter()
        embedder.load()
        load_s = time.perf_counter() - t
        model = SentenceTransformer(str(embedder_weights()), device="cpu")  # torch's default threads
        model.max_seq_length = 256
        model.encode(texts[:64], batch_size=32)  # warm up both paths' kernels once
        embedder.encode_chunks(texts[:64], [[] for _ in texts[:64]])

        bare, ours, embed, bare_cpu, ours_cpu, loads = [], [], [], [], [], []

        def run_bare() -> None:
            t, c = time.perf_counter(), time.process_time()
            vecs = model.encode(texts, batch_size=32)
            bare.append(time.perf_counter() - t)
            bare_cpu.append(time.process_time() - c)
            assert len(vecs) == len(texts)

        def run_ours() -> None:
            t, c = time.perf_counter(), time.process_time()
            report = build_index(corpus, work / "index", rebuild=True, embedder=embedder, progress=False)
            ours.append(time.perf_counter() - t)
            ours_cpu.append(time.process_time() - c)
            embed.append(report.embed_seconds)
            assert report.chunks == len(texts), (report.chunks, len(texts))

        for r in range(args.repeat):  # alternate the order, so neither side always runs first
            for step in ((run_bare, run_ours) if r % 2 == 0 else (run_ours, run_bare)):
                step()
            loads.append(os.getloadavg())
            print(f"round {r + 1}: bare {bare[-1]:.1f} s ({bare_cpu[-1]:.1f} s CPU), ours {ours[-1]:.1f} s "
                  f"({ours_cpu[-1]:.1f} s CPU; embedding {embed[-1]:.1f} s); load {loads[-1]}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    b, o = min(bare), min(ours)
    e = embed[ours.index(o)]
    result = {
        "bench": "build_throughput", **prov,
        "documents": len(docs), "chunks": len(texts), "wordpieces": wordpieces, "model_load_seconds": load_s,
        "bare_seconds": bare, "ours_seconds": ours, "ours_embed_seconds": embed,
        "bare_cpu_seconds": bare_cpu, "ours_cpu_seconds": ours_cpu, "loadavg_per_round": loads,
        "ratio": b / o, "ratio_cpu": min(bare_cpu) / min(ours_cpu),
        "ratio_per_round": [x / y for x, y in zip(bare, ours)],
        "bare_chunks_per_second": len(texts) / b, "ours_chunks_per_second": len(texts) / o,
        "bare_wordpieces_per_second": wordpieces / b, "ours_wordpieces_per_second": wordpieces / o,
    }
    def row(name: str, wall: float, cpu: str) -> str:
        return f"| {name} | {wall:.1f} | {cpu} | {len(texts) / wall:.1f} | {wordpieces / wall:.0f} |"

    md = "\n".join([
        "| | wall s | CPU s | chunks/s | word pieces/s |",
        "|---|---|---|---|---|",
        row("bare `SentenceTransformer.encode(texts, batch_size=32)`", b, f"{min(bare_cpu):.1f}"),
        row("our `build_index(..., rebuild=True)`", o, f"{min(ours_cpu):.1f}"),
        row("of which `Embedder.encode_chunks`", e, ""),
        "",
        f"{len(docs)} documents, {len(texts)} chunks, {wordpieces} word pieces; ratio bare / ours = **{b / o:.3f}** "
        f"(goal >= 1.15; {embedder.workers} single-thread workers, {embedder.backend}; CPU-time ratio {min(bare_cpu) / min(ours_cpu):.3f}; per round: "
        f"{', '.join(f'{x / y:.3f}' for x, y in zip(bare, ours))}); best of {args.repeat} round(s), order alternating; "
        f"model load {load_s:.1f} s, not counted; load average per round: "
        f"{', '.join(f'{l[0]:.1f}' for l in loads)}.",
    ])
    save("build_throughput" + (f"-{args.tag}" if args.tag else ""), result, md)


if __name__ == "__main__":
    main()
