"""Tune the "not found" threshold on half of a SQuAD 2.0 `qa eval --threshold 0 --details` run, report on the other half.

    .venv/bin/qa eval ../shared/data/squad-v2.0-dev.json.gz --mode hybrid --limit 3000 --seed 0 --threshold 0 \
        --reader trained --index-dir bench/out/squad-v2 --details bench/out/v2-trained-details.jsonl --json
    .venv/bin/python bench/tune_threshold_v2.py bench/out/v2-trained-details.jsonl

Questions are split by article (even / odd article order in the file), so the two halves share no
paragraph. Prints the threshold with the best F1 on the tuning half and, on the held-out half, EM / F1
(an empty answer is right for impossible questions) and "not found" precision / recall.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from qa.evaluation.metrics import exact_match, f1

THRESHOLDS = np.round(np.arange(0.0, 0.96, 0.05), 2)


def scores(rows, t):
    em = f = 0.0
    tp = fp = fn = 0
    for x in rows:
        answer = x["answer"] if x["answer"] is not None and x["confidence"] >= t else None
        golds = [""] if x["impossible"] else x["gold"]
        em += exact_match(answer, golds)
        f += f1(answer, golds)
        if answer is None:
            tp += x["impossible"]
            fp += not x["impossible"]
        elif x["impossible"]:
            fn += 1
    n = len(rows)
    return {"threshold": float(t), "questions": n, "em": em / n, "f1": f / n,
            "noanswer_precision": tp / max(tp + fp, 1), "noanswer_recall": tp / max(tp + fn, 1)}


def main() -> None:
    rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    rows = [x for x in rows if "error" not in x]
    articles = sorted({x["gold_source"] for x in rows})
    tune_set = {a for i, a in enumerate(articles) if i % 2 == 0}
    tune = [x for x in rows if x["gold_source"] in tune_set]
    test = [x for x in rows if x["gold_source"] not in tune_set]
    table = [scores(tune, t) for t in THRESHOLDS]
    best = max(table, key=lambda r: r["f1"])
    print("| threshold | tune F1 | tune EM | not-found P | not-found R |\n|---|---|---|---|---|")
    for r in table:
        print(f"| {r['threshold']:.2f} | {r['f1']:.3f} | {r['em']:.3f} | {r['noanswer_precision']:.3f} | "
              f"{r['noanswer_recall']:.3f} |")
    held = scores(test, best["threshold"])
    print(json.dumps({"best_on_tuning_half": best, "held_out_half": held,
                      "held_out_at_0.3": scores(test, 0.3)}, indent=2))


if __name__ == "__main__":
    main()
