"""Bench 1: retrieval recall@k (k = 1 ... 20), dense vs BM25 vs hybrid, from `qa eval --json` results.

    .venv/bin/qa eval ../shared/data/squad-v1.1-dev.json.gz --mode all --index-dir bench/out/squad-dev \
        --json > bench/out/eval-full.json
    .venv/bin/qa eval ../shared/data/squad-v1.1-dev.json.gz --mode all --layout paragraph --limit 2000 --seed 0 \
        --index-dir bench/out/squad-dev-paragraphs --json > bench/out/eval-paragraph-2000.json
    .venv/bin/python bench/retrieval.py bench/out/eval-full.json [bench/out/eval-paragraph-2000.json]

Writes docs/recall_at_k.png and bench/out/retrieval.{md,json}. The paragraph-layout run (one paragraph =
one document, the yardsticks' 2,000-question sample) is drawn next to the yardstick figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import ROOT, fmt, save

# ../shared/yardsticks.md (paragraph = document, 2,000 questions): recall@1, @5, @20
YARDSTICKS = {
    "sentence-transformers dense": (0.641, 0.868, 0.955),
    "bm25s": (0.756, 0.904, 0.955),
    "dense + bm25s, RRF": (0.722, 0.935, 0.984),
    "txtai hybrid": (0.801, 0.952, 0.985),
    "Haystack hybrid": (0.736, 0.928, 0.985),
}
COLORS = {"hybrid": "tab:red", "dense": "tab:blue", "bm25": "tab:green"}


def by_mode(result: dict) -> dict:
    return result.get("by_mode") or {result["mode"]: result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("article", help="qa eval --json output, article layout (full dev)")
    ap.add_argument("paragraph", nargs="?", help="qa eval --json output, paragraph layout (yardstick sample)")
    ap.add_argument("--png", default=str(ROOT / "docs" / "recall_at_k.png"))
    args = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [("article", json.loads(Path(args.article).read_text()))]
    if args.paragraph:
        runs.append(("paragraph", json.loads(Path(args.paragraph).read_text())))

    fig, axes = plt.subplots(1, len(runs), figsize=(6.2 * len(runs), 4.6), squeeze=False)
    md = []
    for ax, (layout, res) in zip(axes[0], runs):
        modes = by_mode(res)
        n = len(next(iter(modes.values()))["recall_curve"])
        ks = list(range(1, n + 1))
        for mode, r in modes.items():
            ax.plot(ks, r["recall_curve"], marker="o", ms=3, color=COLORS.get(mode), label=f"{mode} (ours)")
        if layout == "paragraph":
            for (name, (r1, r5, r20)), m in zip(YARDSTICKS.items(), "sv^Dx"):
                ax.plot([1, 5, 20], [r1, r5, r20], ls="none", marker=m, ms=6, color="gray", alpha=0.8,
                        label=f"{name} (yardstick)")
        ax.set_xticks([1, 2, 3, 5, 10, 15, 20])
        ax.set_xlabel("k (passages)")
        ax.set_ylabel("recall@k")
        ax.grid(alpha=0.3)
        low = min(min(r["recall_curve"]) for r in modes.values())
        ax.set_ylim(max(0.0, min(low, 0.6) - 0.05), 1.0)
        sample = ""
        if res.get("limit"):
            yard = res["limit"] == 2000 and res["seed"] == 0 and res["questions_in_file"] == 10570
            sample = " (the yardsticks' sample)" if yard else f" (--limit {res['limit']} --seed {res['seed']})"
        what = f"one document per {layout}: {res['questions']} questions{sample}, {res['chunks']} chunks"
        ax.set_title(f"SQuAD v1.1 dev, {what}".replace(": ", ":\n", 1), fontsize=9)
        ax.legend(fontsize=7, loc="lower right")

        md += [f"**{layout} layout**: {what}", "", "| k | " + " | ".join(modes) + " |",
               "|---|" + "---|" * len(modes)]
        for k in ks:
            md.append(f"| {k} | " + " | ".join(fmt(r["recall_curve"][k - 1]) for r in modes.values()) + " |")
        md.append("| MRR@20 | " + " | ".join(fmt(r["mrr"]) for r in modes.values()) + " |")
        md.append("")
    fig.tight_layout()
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=110)
    md.append(f"plot: {Path(args.png).relative_to(ROOT) if Path(args.png).is_relative_to(ROOT) else args.png}")
    curves = {layout: {m: r["recall_curve"] for m, r in by_mode(res).items()} for layout, res in runs}
    save("retrieval", {"bench": "retrieval", "inputs": [args.article, args.paragraph], "curves": curves}, "\n".join(md))


if __name__ == "__main__":
    main()
