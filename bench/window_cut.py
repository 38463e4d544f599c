"""Which windows does the answer come from? For each question, every window the span reader reads (the
best sentences, each with its neighbours, merged where they share a sentence), the best span in each
and the ranking score of the window's best sentence; then best-span F1 (threshold 0) and word pieces read
when only some windows are read: the first N, or those whose sentence scores within G of the best.

    .venv/bin/python bench/window_cut.py --index DIR/index --data DATA.json.gz [--questions 500] [--seed 0]

Run it with the reader reading everything it would without a cut (``SENTENCE_GAP`` is lifted here).
DIR: a ``qa eval --index-dir`` folder of the same data. One thread: ``QA_THREADS=1 OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import math

from common import (
    best_per_passage,
    provenance,
    record_span_reads,
    save,
    study_arguments,
    study_questions,
)


def main() -> None:
    args = study_arguments(__doc__, questions=500, seed=0, tag="window-cut")

    from qa.answer import reader as reader_module
    from qa.answer.pipeline import Answerer
    from qa.answer.span_model import MAX_LEN
    from qa.evaluation.metrics import f1
    from qa.inference.model_inputs import question_passages

    reader_module.SENTENCE_GAP = math.inf  # read every window; the cuts are made below
    seen: dict = {}
    windows = reader_module.Reader._windows

    def recording_spans(question, passages, found):
        best = {i: (s.score, passages[i][s.start : s.end]) for i, s in best_per_passage(found).items()}
        seen.update(best=best, pieces=question_passages(question, passages, MAX_LEN).attention_mask.sum(axis=1).tolist())

    def recording_windows(best):
        out = windows(best)
        seen["scores"] = [s.score for _, _, s in out]
        return out

    record_span_reads(recording_spans)
    reader_module.Reader._windows = staticmethod(recording_windows)
    answerer = Answerer(args.index)
    rows = []
    for q in study_questions(args):
        seen.clear()
        answerer.read(q.question, k=5, mode="hybrid")
        rows.append(dict(seen, golds=q.answers) if "best" in seen else None)

    def cut(keep) -> tuple[float, float]:
        """Mean best-span F1 and word pieces per question reading only the windows ``keep(row)`` marks."""
        total_f1 = total_pieces = 0.0
        for r in rows:
            if r is None:
                continue
            ok = keep(r)
            total_pieces += sum(p for p, k in zip(r["pieces"], ok) if k)
            # each kept window's best span (score, text); the answer: the best of them
            kept = [r["best"][i] for i in range(len(ok)) if ok[i] and i in r["best"]]
            if kept:
                total_f1 += f1(max(kept)[1], r["golds"])
        return total_f1 / len(rows), total_pieces / len(rows)

    result = {"provenance": provenance(), "args": vars(args), "cuts": {}}
    lines = [f"`bench/window_cut.py` on {args.data} ({len(rows)} questions, seed {args.seed})", "",
             "| read | best-span F1 | word pieces / question |", "|---|---|---|"]
    plans = {"all": lambda r: [True] * len(r["pieces"])}
    plans.update({f"first {n}": (lambda r, n=n: [i < n for i in range(len(r["pieces"]))]) for n in (1, 2, 3)})
    plans.update({f"within {g} of the best": (lambda r, g=g: [r["scores"][0] - s <= g for s in r["scores"]])
                  for g in (1, 2, 3, 4, 6)})
    for name, keep in plans.items():
        score, pieces = cut(keep)
        result["cuts"][name] = {"f1": score, "pieces": pieces}
        lines.append(f"| {name} | {score:.4f} | {pieces:.0f} |")
    save(args.tag, result, "\n".join(lines))


if __name__ == "__main__":
    main()
