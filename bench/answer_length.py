"""How long should an answer be? F1 by question kind of the reader's span, its clause and its sentence.

    .venv/bin/qa eval DATA --threshold 0 --details F.jsonl ...
    .venv/bin/python bench/answer_length.py F.jsonl [G.jsonl ...]

For every answered question of each details file it scores, against the gold answers, the span the
engine quoted, the clause around it (``clause_around``) and the whole sentence, grouped by the
question's opening word(s) (``question_kind``). A study: the engine quotes the span.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from qa.evaluation.metrics import f1

# Question openings whose answers are clauses ("Why ...", "Do they share ...", "How does ... work")
_YES_NO = {"do", "does", "did", "is", "are", "was", "were", "will", "would", "can", "could", "should", "has",
           "have", "had", "may", "might", "must", "shall"}
_HOW_QUANTITY = {"much", "many", "long", "old", "far", "often", "big", "large", "tall", "high", "fast", "heavy",
                 "soon", "early", "late", "wide", "deep"}
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]—–]|\s-\s")
MAX_CLAUSE_WORDS = 40


def question_kind(question: str) -> str:
    """The opening of a question: why, yes/no, how-does (how, not how much / many ...), what, who, ..."""
    words = re.findall(r"[a-z']+", question.lower())
    if not words:
        return "other"
    first = words[0]
    if first in _YES_NO:
        return "yes/no"
    if first == "how":
        return "how-" + words[1] if len(words) > 1 and words[1] in _HOW_QUANTITY else "how-does"
    if first in ("what", "which", "who", "whom", "whose", "when", "where", "why"):
        return first
    return "other"


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
            groups[question_kind(x["question"])].append((f1(answer, x["gold"]), f1(s[a:b], x["gold"]),
                                                          f1(s, x["gold"])))
        print(f"## {path}")
        print("| kind | questions | span F1 | clause F1 | sentence F1 |")
        print("|---|---|---|---|---|")
        for kind, rows in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            n = len(rows)
            print(f"| {kind} | {n} | " + " | ".join(f"{sum(r[i] for r in rows) / n:.3f}" for i in range(3)) + " |")


if __name__ == "__main__":
    main()
