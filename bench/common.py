"""Shared bits of the benchmark scripts: where outputs go, and what machine and code produced them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SQUAD_DEV = ROOT.parent / "shared" / "data" / "squad-v1.1-dev.json.gz"

sys.path.insert(0, str(ROOT))


def provenance() -> dict:
    """Git commit (and whether qa/ has uncommitted changes), date, machine and its load."""
    from qa.evaluation.harness import machine_info

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = git("status", "--porcelain", "qa/")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_qa_changes": bool(dirty),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine_info(),
        "loadavg_at_start": os.getloadavg(),
        "env": {k: os.environ[k] for k in ("QA_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if k in os.environ},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def save(name: str, result: dict, markdown: str) -> None:
    """Write bench/out/NAME.json and NAME.md, and print the Markdown."""
    OUT.mkdir(parents=True, exist_ok=True)
    result = dict(result, loadavg_at_end=os.getloadavg())
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (OUT / f"{name}.md").write_text(markdown + "\n")
    print(markdown)


def fmt(x, nd: int = 3) -> str:
    return "—" if x is None else f"{x:.{nd}f}"


def pcts(values: list[float]) -> dict:
    from qa.evaluation.metrics import percentile

    mean = sum(values) / len(values) if values else None
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "mean": mean}


def record_span_reads(record) -> None:
    """From now on every read of the span reader also calls ``record(question, passages, found)``: the
    passages it was given and the spans it found, best first (its own arguments passed through unchanged)."""
    from qa.answer.span_model import SpanReader

    spans = SpanReader.spans

    def recording(self, question, passages, *args, **kwargs):
        found = spans(self, question, passages, *args, **kwargs)
        record(question, passages, found)
        return found

    SpanReader.spans = recording


def best_per_passage(found) -> dict:
    """Passage index -> its best span, from the span reader's spans (best first)."""
    best: dict = {}
    for span in found:
        best.setdefault(span.passage, span)
    return best


def study_arguments(doc: str, *, questions: int, seed: int, tag: str | None = None):
    """The command line of a study of the engine on a ``qa eval --index-dir`` index: ``--index``, ``--data``,
    ``--questions`` and ``--seed`` (with these defaults), and ``--tag`` (the name ``save`` writes under)
    where ``tag`` gives its default. ``doc``: the script's docstring (its first paragraph is the help)."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--questions", type=int, default=questions)
    ap.add_argument("--seed", type=int, default=seed)
    if tag is not None:
        ap.add_argument("--tag", default=tag)
    return ap.parse_args()


def study_questions(args) -> list:
    """The seeded sample of ``study_arguments``' data: ``args.questions`` questions, seed ``args.seed``."""
    from qa.evaluation.squad import load_squad, sample_questions

    return sample_questions(load_squad(args.data).questions, args.questions, seed=args.seed)
