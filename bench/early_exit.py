"""Would reading stop early? For each question, where the trained reader's best span is among the 4
windows it reads, and how far the first window's span beats its own "no answer" score.

    .venv/bin/python bench/early_exit.py --index DIR/index --data DATA.json.gz [--questions 400] [--seed 7]

Prints, per margin M, the share of questions that would stop after the first window (its span score
minus its no-answer score >= M) and the share whose answer would then change. An index built by
`qa eval --index-dir DIR` on the same data.
"""

from __future__ import annotations

from common import (
    best_per_passage,
    provenance,
    record_span_reads,
    study_arguments,
    study_questions,
)


def main() -> None:
    args = study_arguments(__doc__, questions=400, seed=7)

    from qa.answer.pipeline import Answerer

    seen: list[list[tuple[int, float, float]]] = []
    record_span_reads(lambda question, passages, found: seen.append(
        [(s.passage, s.score, s.null_score) for s in best_per_passage(found).values()]))
    answerer = Answerer(args.index)
    for q in study_questions(args):
        answerer.read(q.question, k=5, mode="hybrid")
    rows = [r for r in seen if r]
    print(provenance()["commit"], f"{len(rows)} questions read; best span in the first window: "
          f"{sum(r[0][0] == 0 for r in rows) / len(rows):.2f}")
    for margin in (0, 1, 2, 3, 4, 6, 8, 10, 12, 14):
        stop = [r for r in rows if any(p == 0 and s - n >= margin for p, s, n in r)]
        changed = sum(r[0][0] != 0 for r in stop)
        print(f"margin {margin}: stops early {len(stop) / len(rows):.2f}, answer changes {changed / len(rows):.4f}")


if __name__ == "__main__":
    main()
