"""How long should an answer be? F1 by form of question of the reader's span, its clause and its sentence.

    .venv/bin/qa eval DATA --threshold 0 --details F.jsonl ...
    .venv/bin/python bench/answer_length.py F.jsonl [G.jsonl ...]

For every answered question of each details file it scores, against the gold answers, the span the
engine quoted, the clause around it (``clause_around``) and the whole sentence, grouped by the
form of the question (``qa.evaluation.question_forms``, as ``qa eval`` reports it). A study: the
engine quotes the span.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from qa.evaluation.metrics import f1
from qa.evaluation.question_forms import question_form

_CLAUSE_BREAK = re.compile(r"[,;:()\[\]—–]|\s-\s")
MAX_CLAUSE_WORDS = 40


def clause_around(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause of ``sentence`` holding ``[start, end)``: out to the nearest clause break (comma,
    semicolon, colon, bracket, dash) or the sentence's edges, trimmed of spaces and final punctuation;
    the span itself when that clause would be over ``MAX_CLAUSE_WORDS`` words."""
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(sentence, 0, start)), default=0)
    right = next((m.start() for m in _CLAUSE_BREAK.finditer(sentence, end)), len(sentence))
    while left < start and sentence[left].isspace():
        left += 1
    while right > end and (sentence[right - 1].isspace() or sentence[right - 1] in ".!?"):
        right -= 1
    if len(sentence[left:right].split()) > MAX_CLAUSE_WORDS:
        return start, end
    return min(left, start), max(right, end)


def main() -> None:
    for path in sys.argv[1:]:
        groups: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        for line in Path(path).read_text().splitlines():
            x = json.loads(line)
            if x.get("best_answer", x.get("answer")) is None or not x.get("sentence") or x.get("impossible"):
                continue
            s = x["sentence"]
            answer = x.get("best_answer", x["answer"])
            pos = s.find(answer)
            if pos < 0:
                continue
            a, b = clause_around(s, pos, pos + len(answer))
            groups[question_form(x["question"])].append((f1(answer, x["gold"]), f1(s[a:b], x["gold"]),
                                                          f1(s, x["gold"])))
        print(f"## {path}")
        print("| form | questions | span F1 | clause F1 | sentence F1 |")
        print("|---|---|---|---|---|")
        for form, rows in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            n = len(rows)
            print(f"| {form} | {n} | " + " | ".join(f"{sum(r[i] for r in rows) / n:.3f}" for i in range(3)) + " |")


if __name__ == "__main__":
    main()
