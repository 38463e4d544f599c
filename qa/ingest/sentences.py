"""Sentence boundaries as character spans, so every sentence is an exact slice of the text.

Rules: a blank line always ends a sentence; a single line break ends one unless the line runs on
(ends in a letter, comma or hyphen and the next line starts in lower case); inside a line, ., ! or ?
(plus closing quotes or brackets) followed by a space and a capital, digit or opening quote ends one,
except after common abbreviations and initials.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd", "co",
    "corp", "no", "nos", "fig", "figs", "vol", "pp", "p", "ed", "eds", "gen", "gov", "sen", "rep", "lt",
    "col", "capt", "sgt", "mt", "ft", "approx", "dept", "est", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "cf", "al", "ca", "c", "u.s", "u.k", "u.n", "a.m", "p.m",
}

_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-Ý])")
_WORD_BEFORE = re.compile(r"(\S+)$")


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    m = _WORD_BEFORE.search(text, max(0, dot - 100), dot)  # a bounded look-back: linear in the text
    if not m:
        return False
    word = m.group(1).lstrip("\"'“‘([").lower()
    if len(word) == 1 and word.isalpha():  # an initial, as in "J. K. Rowling"
        return True
    return word in _ABBREVIATIONS


def _line_runs_on(text: str, newline: int) -> bool:
    """True where a single line break sits inside a sentence (hard-wrapped text)."""
    before = text[max(0, newline - 200) : newline].rstrip(" \t")
    after_pos = newline + 1
    while after_pos < len(text) and text[after_pos] in " \t":
        after_pos += 1
    if not before or after_pos >= len(text):
        return False
    last, first = before[-1], text[after_pos]
    return (last.isalpha() or last in ",;-") and first.islower()


def _cut_points(text: str) -> list[int]:
    cuts: list[int] = []
    for m in re.finditer("\n", text):
        if not _line_runs_on(text, m.start()):
            cuts.append(m.start())
    for m in _END.finditer(text):
        if not _is_abbreviation(text, m.end() - 1 if text[m.end() - 1] == "." else m.start()):
            cuts.append(m.end())
    return sorted(set(cuts))


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text`` (shifted by ``offset``), whitespace trimmed."""
    spans = []
    prev = 0
    for cut in _cut_points(text) + [len(text)]:
        start, end = prev, cut
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start + offset, end + offset))
        prev = cut
    return spans
