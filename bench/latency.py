"""Bench 3: warm query latency per stage (embed, dense, bm25, fuse, search, rerank, read, total), per mode, on
the seed corpus (seeds/, with the questions in bench/seed_questions.txt) and on the SQuAD v1.1 dev index
kept by `qa eval --index-dir` (a fixed sample of its questions).

    .venv/bin/python bench/latency.py [--squad-index bench/out/squad-dev] [--questions 500] [--tag default] [--hog] [-k 5]

Thread settings come from the environment (QA_THREADS, OMP_NUM_THREADS); run it once per setting with
a different --tag. Timings are the engine's own `timings_ms`; one untimed question warms each mode.
`--hog` keeps one core busy with a spinning child process for the whole run: a busy neighbour, on purpose.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import OUT, ROOT, SQUAD_DEV, fmt, pcts, provenance, save

from qa.evaluation.harness import STAGES

MODES = ("hybrid", "dense", "bm25")


def measure(answerer, questions: list[str], rounds: int, k: int) -> dict:
    out = {}
    for mode in MODES:
        answerer.ask(questions[0], mode=mode)  # warm
        samples = {s: [] for s in STAGES}
        for _ in range(rounds):
            for q in questions:
                t = answerer.ask(q, k=k, mode=mode).timings_ms
                for s in STAGES:
                    samples[s].append(t.get(s, 0.0))
        out[mode] = {s: pcts(v) for s, v in samples.items()}
        out[mode]["n"] = len(samples["total"])
    return out


def table(title: str, res: dict) -> list[str]:
    lines = [f"**{title}** (ms, p50 / p95)", "",
             "| mode | n | " + " | ".join(STAGES) + " |",
             "|---|---|" + "---|" * len(STAGES)]
    for mode, r in res.items():
        cells = [f"{fmt(r[s]['p50'], 1)} / {fmt(r[s]['p95'], 1)}" for s in STAGES]
        lines.append(f"| {mode} | {r['n']} | " + " | ".join(cells) + " |")
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad-index", default=str(OUT / "squad-dev"), help="a `qa eval --index-dir` folder")
    ap.add_argument("--questions", type=int, default=500, help="SQuAD questions per mode (seeded sample; 0: none)")
    ap.add_argument("--seed-rounds", type=int, default=10, help="times the seed questions are asked per mode")
    ap.add_argument("--tag", default="default")
    ap.add_argument("--hog", action="store_true", help="keep one core busy meanwhile (a simulated neighbour)")
    ap.add_argument("-k", type=int, default=5,
                    help="passages read per question (default 5, as the fast-path issue's figures; the product's default is 20)")
    args = ap.parse_args()
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.hog else None
    try:
        run(args)
    finally:
        if hog is not None:
            hog.kill()


def run(args) -> None:

    from qa import Answerer, build_index
    from qa.evaluation.squad import load_squad, sample_questions
    from qa.index.embedder import Embedder

    prov = provenance()
    embedder = Embedder()
    result = {"bench": "latency", "tag": args.tag, "hog": args.hog, "k": args.k, **prov}
    md = []

    work = Path(tempfile.mkdtemp(prefix="qa-bench-lat-"))
    try:
        report = build_index(ROOT / "seeds", work / "index", embedder=embedder, progress=False)
        seed_qs = [q for q in (ROOT / "bench" / "seed_questions.txt").read_text().splitlines() if q.strip()]
        res = measure(Answerer(work / "index", embedder=embedder), seed_qs, args.seed_rounds, args.k)
        result["seeds"] = {"chunks": report.chunks, "questions": len(seed_qs), "rounds": args.seed_rounds, "modes": res}
        md += table(f"seeds/ ({report.chunks} chunks, {len(seed_qs)} questions x {args.seed_rounds})", res)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    squad_index = Path(args.squad_index) / "index"
    if args.questions > 0 and squad_index.exists():
        qs = [q.question for q in sample_questions(load_squad(SQUAD_DEV).questions, args.questions, seed=1)]
        answerer = Answerer(squad_index, embedder=embedder)
        res = measure(answerer, qs, 1, args.k)
        result["squad"] = {"chunks": answerer.store.n_chunks, "questions": len(qs), "modes": res}
        md += table(f"SQuAD v1.1 dev, article layout ({answerer.store.n_chunks} chunks, {len(qs)} questions)", res)
    elif args.questions > 0:
        print(f"(no SQuAD index at {squad_index}: run qa eval with --index-dir first)")
    md.append(f"thread settings: {prov['env'] or 'defaults'}; model threads {prov['machine'].get('model_threads')} ({prov['machine'].get('backend')})"
              + ("; one core kept busy by a spinning process (--hog)" if args.hog else ""))
    save(f"latency-{args.tag}", result, "\n".join(md))


if __name__ == "__main__":
    main()
