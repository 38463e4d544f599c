"""Scoring one answer against SQuAD gold answers: EM / F1 with the official normalization, and where
retrieved passages and citations stand relative to the gold paragraph.

Definitions (also in docs/BENCHMARKS.md):

- ``normalize_answer``: the official SQuAD script's normalization: lower case, drop punctuation
  (``string.punctuation``), drop the articles a / an / the, collapse whitespace.
- ``exact_match`` / ``f1``: the official per-answer scores, maximised over the gold answers. A
  prediction of "not found" is scored as the empty string ``""``; it gets 0 against any non-empty gold
  answer. For an impossible SQuAD 2.0 question the gold answers are ``[""]``, so "not found" scores
  EM = F1 = 1 and any other answer 0 (the SQuAD 2.0 rule: when either side has no tokens, F1 is 1 if
  both have none, else 0).
- ``passage_hit``: a retrieved passage is a hit when it is in the gold paragraph's document, its
  character range ``[start, end)`` overlaps the gold paragraph's range, and its text contains one of the
  gold answer texts as an exact, case-sensitive substring (SQuAD answers are verbatim slices of the
  context, so no normalization is needed, and a normalized match would let "US" match "us").
- ``first_hit_rank``: the 1-based rank of the first hit among the passages (None if none): recall@k
  of a question is 1 when this rank is <= k.
- ``sentence_hit``: the answer's cited sentence (``citations[0].sentence``) contains a gold answer text
  (case-sensitive substring). ``sentence_in_paragraph_hit`` additionally asks that the sentence lie in
  the gold paragraph (same document, overlapping range).
- ``citation_hit``: the answer's own span ``citations[0].start:end`` lies inside the gold paragraph of
  the gold document.

"Not found" (no answer) is never a hit for the sentence and citation metrics.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, remove punctuation, articles and extra whitespace (official SQuAD normalization)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split() if text else []


def exact_match_one(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_one(prediction: str, gold: str) -> float:
    pred, ref = _tokens(prediction), _tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str | None, golds: Sequence[str]) -> float:
    """Max over gold answers; ``None`` (not found) is the empty answer. Empty golds mean ``[""]``."""
    golds = list(golds) or [""]
    return max(exact_match_one(prediction or "", g) for g in golds)


def f1(prediction: str | None, golds: Sequence[str]) -> float:
    golds = list(golds) or [""]
    return max(f1_one(prediction or "", g) for g in golds)


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Half-open ranges [a_start, a_end) and [b_start, b_end) share at least one character."""
    return a_start < b_end and b_start < a_end


def contains_any(text: str, golds: Iterable[str]) -> bool:
    return any(g and g in text for g in golds)


def passage_hit(passage, source: str, start: int, end: int, golds: Sequence[str]) -> bool:
    """``passage`` (``.source .start .end .text``) overlaps the gold paragraph and holds a gold answer."""
    return (
        passage.source == source
        and overlaps(passage.start, passage.end, start, end)
        and contains_any(passage.text, golds)
    )


def first_hit_rank(passages, source: str, start: int, end: int, golds: Sequence[str]) -> int | None:
    for rank, p in enumerate(passages, 1):
        if passage_hit(p, source, start, end, golds):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first hit ranks within the top ``k``."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def sentence_hit(answer, golds: Sequence[str]) -> bool:
    return answer.answer is not None and bool(answer.citations) and contains_any(answer.citations[0].sentence, golds)


def sentence_in_paragraph_hit(answer, source: str, start: int, end: int, golds: Sequence[str]) -> bool:
    if not sentence_hit(answer, golds):
        return False
    c = answer.citations[0]
    return c.source == source and overlaps(c.sentence_start, c.sentence_end, start, end)


def citation_hit(answer, source: str, start: int, end: int) -> bool:
    if answer.answer is None or not answer.citations:
        return False
    c = answer.citations[0]
    return c.source == source and start <= c.start and c.end <= end


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), ``q`` in [0, 100]; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
