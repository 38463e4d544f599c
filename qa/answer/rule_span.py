"""The rule-based span picker: inside a sentence, the span of the kind the question asks for
(``qa.answer.answer_types``) that stands nearest the question's own words."""

from __future__ import annotations

import re

from qa.answer import answer_types
from qa.ingest.lexical import stem, words

CUE_BONUS = 40  # characters: "in Paris" beats a closer name with no "in" before it, for a "where" question

# Words that may join a name ("Bank of Japan") but never start or end an answer.
JOINERS = {"of", "the", "de", "du", "del", "da", "von", "van", "der", "and", "for", "on", "la", "le", "al", "bin"}


def _is_asked(token: str, asked: set[str]) -> bool:
    """A token of the question, a joining word, or bare punctuation, judged by its first word."""
    ws = words(token)
    return not ws or ws[0] in JOINERS or stem(ws[0]) in asked


def typed_spans(text: str, kind: str, query_terms: list[str]) -> list[answer_types.TypedSpan]:
    """Spans of the wanted kind, trimmed of the question's own words ("Minister Motegi" -> "Motegi")."""
    asked = set(query_terms)
    out = []
    for c in answer_types.candidates(text, kind):
        toks = list(re.finditer(r"\S+", text[c.start : c.end]))
        while toks and _is_asked(toks[0].group(0), asked):
            toks.pop(0)
        while toks and _is_asked(toks[-1].group(0), asked):
            toks.pop()
        if toks:
            out.append(answer_types.TypedSpan(c.start + toks[0].start(), c.start + toks[-1].end(), c.kind))
    return out


def best_span(text: str, kind: str, query_terms: list[str]) -> tuple[int, int] | None:
    """(start, end) in ``text`` of the typed span nearest the question's words, or None."""
    spans = typed_spans(text, kind, query_terms)
    if not spans:
        return None
    asked = set(query_terms)
    anchors = [m.start() for m in re.finditer(r"\w+", text) if stem(m.group(0).lower()) in asked]
    if not anchors:
        return spans[0].start, spans[0].end

    def distance(c: answer_types.TypedSpan) -> int:
        near = min(min(abs(a - c.start), abs(a - c.end)) for a in anchors)
        return near - CUE_BONUS if answer_types.cued(text, c.start, kind) else near

    best = min(spans, key=lambda c: (distance(c), c.start))
    return best.start, best.end
