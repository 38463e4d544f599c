"""Reliability diagrams from ``qa eval --details`` files: per confidence bin, the share of answers right.

    .venv/bin/python bench/reliability_plot.py --out docs/reliability.png \\
        "SQuAD v1.1 dev=bench/out/squad-details.jsonl" "amazon=bench/out/amazon-details.jsonl" ...

Each argument is LABEL=DETAILS (the lines of ``--mode``, default hybrid, are plotted). The confidence
of every question is binned as in ``qa.evaluation.calibration``; a point is (mean confidence, share of
best spans right) for bins holding at least 5 questions, labelled with their number of questions. The figure
uses ``ece_span`` semantics: every question's best span, given or not, so the threshold does not move it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def span_bins(details: Path, mode: str) -> list[tuple[float, float, int]]:
    from qa.evaluation.calibration import reliability
    from qa.evaluation.metrics import f1

    xs = [json.loads(line) for line in details.read_text().splitlines()]
    xs = [x for x in xs if x.get("mode") == mode and "error" not in x]
    conf = [x["confidence"] for x in xs]
    right = [x.get("best_answer") is not None and f1(x["best_answer"], x["gold"]) >= 0.5 for x in xs]
    return [(b.mean_confidence, b.accuracy, b.questions) for b in reliability(conf, right) if b.questions >= 5]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", help="LABEL=DETAILS.jsonl (from qa eval --details)")
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--out", default="docs/reliability.png")
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfectly calibrated")
    for spec in args.sets:
        label, _, path = spec.partition("=")
        pts = span_bins(Path(path), args.mode)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", lw=1.5, label=label)
        for x, y, n in pts:
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(3, -10), fontsize=6, color="grey")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (bin mean)", ylabel="share of answers right (F1 ≥ 0.5)",
           title="Reliability of the confidence (hybrid, trained reader)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
