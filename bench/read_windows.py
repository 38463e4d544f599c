"""What reading costs with and without merging the windows that share a sentence (``MAX_MERGED_CHARS``),
measured in one process (the sentences read are the same for both: `SENTENCE_GAP` applies to either), the
two settings alternating question by question (first one, then the other,
then the other way round), so both meet the same machine.

    .venv/bin/python bench/read_windows.py --index DIR/index --data DATA.json.gz [--questions 300] [--seed 5]

Per setting: word pieces the span reader reads per question (question and specials included), windows
read, windows cut short at the reader's 256 pieces, the engine's read / total milliseconds (p50, p95),
and how many questions get another answer. DIR: a ``qa eval --index-dir`` folder of the same data.
Run it with ``QA_THREADS=1 OMP_NUM_THREADS=1`` (the engine's default is one thread a question).
"""

from __future__ import annotations

from common import (
    fmt,
    pcts,
    provenance,
    record_span_reads,
    save,
    study_arguments,
    study_questions,
)


def main() -> None:
    args = study_arguments(__doc__, questions=300, seed=5, tag="read-windows")

    from qa.answer import reader as reader_module
    from qa.answer.pipeline import Answerer
    from qa.answer.span_model import MAX_LEN
    from qa.inference.model_inputs import question_passages

    seen: dict = {}

    def recording(question, passages, found):
        batch = question_passages(question, passages, MAX_LEN)
        seen.update(pieces=int(batch.attention_mask.sum()), windows=len(passages), cut=sum(batch.truncated))

    record_span_reads(recording)
    merged = reader_module.MAX_MERGED_CHARS
    settings = {"apart": 0, "merged": merged}
    answerer = Answerer(args.index)
    questions = [q.question for q in study_questions(args)]
    for chars in settings.values():  # warm both
        reader_module.MAX_MERGED_CHARS = chars
        answerer.ask(questions[0])
    rows: dict[str, list[dict]] = {name: [] for name in settings}
    for i, q in enumerate(questions):
        for name in (list(settings) if i % 2 == 0 else list(settings)[::-1]):
            reader_module.MAX_MERGED_CHARS = settings[name]
            seen.clear()
            answer = answerer.ask(q)
            rows[name].append(dict(seen, read=answer.timings_ms["read"], total=answer.timings_ms["total"],
                                   answer=answer.answer))
    reader_module.MAX_MERGED_CHARS = merged
    result = {"provenance": provenance(), "args": vars(args), "max_merged_chars": merged, "settings": {}}
    lines = [f"`bench/read_windows.py` on {args.data} ({len(questions)} questions, seed {args.seed})", "",
             "| windows | pieces / question | windows read | cut short | read p50 / p95 ms | total p50 / p95 ms |",
             "|---|---|---|---|---|---|"]
    for name, got in rows.items():
        read = [r for r in got if "pieces" in r]  # (a question with no sentence reads nothing)
        stats = {"questions_read": len(read),
                 "pieces_mean": sum(r["pieces"] for r in read) / len(read),
                 "windows_mean": sum(r["windows"] for r in read) / len(read),
                 "cut_short": sum(r["cut"] for r in read),
                 "read_ms": pcts([r["read"] for r in got]), "total_ms": pcts([r["total"] for r in got])}
        result["settings"][name] = stats
        lines.append(f"| {name} | {stats['pieces_mean']:.0f} | {stats['windows_mean']:.2f} | {stats['cut_short']} | "
                     f"{fmt(stats['read_ms']['p50'], 1)} / {fmt(stats['read_ms']['p95'], 1)} | "
                     f"{fmt(stats['total_ms']['p50'], 1)} / {fmt(stats['total_ms']['p95'], 1)} |")
    changed = sum(a["answer"] != b["answer"] for a, b in zip(rows["apart"], rows["merged"]))
    result["answers_changed"] = changed
    lines += ["", f"answers that differ: {changed} of {len(questions)}"]
    save(args.tag, result, "\n".join(lines))


if __name__ == "__main__":
    main()
