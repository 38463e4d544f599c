"""How the "not found" threshold trades answers for abstentions, from a `qa eval --details` file.

    .venv/bin/qa eval ../shared/data/squad-v2.0-dev.json.gz --limit 2000 --seed 0 --threshold 0 \
        --details bench/out/eval-v2-details.jsonl --json > bench/out/eval-v2.json
    .venv/bin/python bench/threshold_sweep.py bench/out/eval-v2-details.jsonl

Every details line carries the best span (``best_answer``) whatever the run's threshold; the answer
at threshold T is then that answer if its confidence >= T, else "not found" (exactly what the engine
does: the threshold only gates the reader's best span). Prints EM, F1, share answered, the share right
(F1 >= 0.5) among the answered, ECE (``qa.evaluation.calibration``), sentence accuracy (answerable
questions) and, for SQuAD 2.0, "not found" precision / recall per threshold and mode.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from common import fmt, save

THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("details", help="JSON lines from qa eval --threshold 0 --details FILE")
    ap.add_argument("--name", default=None, help="output name under bench/out (default: from the file name)")
    args = ap.parse_args()

    from qa.evaluation.calibration import expected_calibration_error
    from qa.evaluation.metrics import exact_match, f1

    rows = defaultdict(list)
    for line in Path(args.details).read_text(encoding="utf-8").splitlines():
        x = json.loads(line)
        if "error" not in x:
            rows[x["mode"]].append(x)
    result, md = {"bench": "threshold_sweep", "details": args.details, "modes": {}}, []
    for mode, xs in rows.items():
        for x in xs:  # the best span, quoted or not (details files carry it as best_answer)
            x["best"] = x.get("best_answer", x["answer"])
        if any(x["best"] is None and x["confidence"] > 0 for x in xs):
            raise SystemExit("this details file has no best_answer: make it with --threshold 0")
        v2 = any(x["impossible"] for x in xs)
        md += [f"**{mode}** ({len(xs)} questions)", "",
               "| threshold | answered | right/answered | ECE | EM | F1 | sentence |"
               + (" no-ans P | no-ans R | EM answerable |" if v2 else ""),
               "|---|---|---|---|---|---|---|" + ("---|---|---|" if v2 else "")]
        table = []
        for t in THRESHOLDS:
            preds = [(x, x["best"] if x["confidence"] >= t else None) for x in xs]
            em = sum(exact_match(p, x["gold"]) for x, p in preds) / len(xs)
            f = sum(f1(p, x["gold"]) for x, p in preds) / len(xs)
            answered = sum(p is not None for _, p in preds) / len(xs)
            answerable = [(x, p) for x, p in preds if not x["impossible"]]
            sentence = sum(p is not None and bool(x["sentence"]) and any(g in x["sentence"] for g in x["gold"])
                           for x, p in answerable) / len(answerable) if answerable else None
            right = [p is not None and f1(p, x["gold"]) >= 0.5 for x, p in preds]
            n_answered = sum(p is not None for _, p in preds)
            accuracy = sum(right) / n_answered if n_answered else None
            ece = expected_calibration_error([x["confidence"] for x in xs], right)
            row = {"threshold": t, "answered": answered, "answered_accuracy": accuracy, "ece": ece, "em": em, "f1": f,
                   "sentence_accuracy": sentence}
            cells = [f"{t:.2f}", fmt(answered), fmt(accuracy), fmt(ece), fmt(em), fmt(f), fmt(sentence)]
            if v2:
                nf = [x for x, p in preds if p is None]
                imp = [x for x in xs if x["impossible"]]
                ans = [(x, p) for x, p in preds if not x["impossible"]]
                row["noanswer_precision"] = sum(x["impossible"] for x in nf) / len(nf) if nf else None
                row["noanswer_recall"] = sum(x["impossible"] for x in nf) / len(imp) if imp else None
                row["em_answerable"] = sum(exact_match(p, x["gold"]) for x, p in ans) / len(ans) if ans else None
                cells += [fmt(row["noanswer_precision"]), fmt(row["noanswer_recall"]), fmt(row["em_answerable"])]
            table.append(row)
            md.append("| " + " | ".join(cells) + " |")
        md.append("")
        result["modes"][mode] = table
    save(args.name or "threshold-" + Path(args.details).stem, result, "\n".join(md))


if __name__ == "__main__":
    main()
