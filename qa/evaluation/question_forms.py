"""The form of a question, to break ``qa eval``'s scores down by what is asked: a fact (what, which, who,
when, where, how many / much), an explanation (how, why) or yes / no ("Do they share my data?").

Whether the answer's length fits the question is read off the breakdown: per form, the mean words of the
best span against the mean words of the gold answers.
"""

from __future__ import annotations

import re

FORMS = ("what", "which", "who", "when", "where", "how many / much", "how", "why", "yes / no", "other")

_WORD = re.compile(r"[a-z']+")
_WH = {"what": "what", "which": "which", "who": "who", "whom": "who", "whose": "who", "when": "when",
       "where": "where", "why": "why", "how": "how"}
# "how" + one of these asks for a quantity, not a manner
_HOW_MUCH = {"much", "many", "long", "far", "old", "large", "big", "tall", "high", "often", "fast", "heavy", "deep",
             "wide", "early", "late", "soon"}
_AUXILIARIES = {"do", "does", "did", "is", "are", "was", "were", "am", "can", "could", "will", "would", "shall",
                "should", "may", "might", "must", "has", "have", "had"}


def question_form(question: str) -> str:
    """One of ``FORMS``: the first question word (so "In what year ..." is a what-question), else yes / no
    when the question opens with an auxiliary verb, else other."""
    words = _WORD.findall(question.lower())
    for i, w in enumerate(words):
        if w in _WH:
            if w == "how" and i + 1 < len(words) and words[i + 1] in _HOW_MUCH:
                return "how many / much"
            return _WH[w]
    if words and words[0] in _AUXILIARIES:
        return "yes / no"
    return "other"


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def by_form(rows: list[tuple[str, float, float, str | None, list[str]]]) -> dict[str, dict]:
    """Scores per question form, in ``FORMS`` order, from (question, F1 as given, F1 of the best span,
    best span or None, gold answers) per question: questions, ``f1``, ``span_f1``, and the mean words of
    the best span (``answer_words``, questions with a span) and of the gold answers (``gold_words``,
    answerable questions)."""
    groups: dict[str, list] = {}
    for question, f1, span_f1, best, golds in rows:
        groups.setdefault(question_form(question), []).append((f1, span_f1, best, golds))
    out = {}
    for form in FORMS:
        rows_ = groups.get(form)
        if not rows_:
            continue
        out[form] = {
            "questions": len(rows_),
            "f1": _mean([r[0] for r in rows_]),
            "span_f1": _mean([r[1] for r in rows_]),
            "answer_words": _mean([len(r[2].split()) for r in rows_ if r[2]]),
            "gold_words": _mean([sum(len(g.split()) for g in r[3]) / len(r[3]) for r in rows_ if r[3]]),
        }
    return out
