"""Cut a document into overlapping chunks of tiktoken tokens that fit the embedder's window.

Chunks are built from whole sentences where possible. A new section (heading or PDF page) always
starts a new chunk; a paragraph break starts one once the current chunk is half full. A chunk cut in
the middle of a paragraph hands its last sentences (up to ``overlap_tokens``) to the next one.
A sentence longer than a chunk is cut at spaces. Every chunk is an exact slice of the document text
and holds at most ``max_wordpieces`` of the embedder's word pieces, so nothing is truncated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.config import ChunkerSettings
from qa.ingest.documents import Document
from qa.ingest.sentences import split_sentences
from qa.ingest.tokens import count_tokens, count_wordpieces


@dataclass
class Chunk:
    start: int
    end: int
    text: str
    page: int | None = None
    heading: str | None = None
    sentences: list[tuple[int, int]] = field(default_factory=list)  # absolute spans inside the chunk
    tokens: int = 0
    wordpieces: int = 0


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int
    wordpieces: int
    section_start: bool = False  # first unit of a new section: always opens a chunk
    paragraph_start: bool = False  # follows a blank line


_WORD = re.compile(r"\S+")


def _fits(tokens: int, wordpieces: int, s: ChunkerSettings) -> bool:
    return tokens <= s.max_tokens and wordpieces <= s.max_wordpieces


def _split_long(text: str, start: int, end: int, s: ChunkerSettings) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces that fit, at spaces where possible, else anywhere."""
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
    pieces: list[tuple[int, int]] = []
    piece_start = None
    prev_end = start
    tok = wp = 0
    word_tokens = count_tokens([" " + text[a:b] for a, b in words])
    word_wps = count_wordpieces([text[a:b] for a, b in words])
    for (a, b), t, w in zip(words, word_tokens, word_wps):
        if not _fits(t, w, s):  # one "word" longer than a chunk: hard cuts
            if piece_start is not None:
                pieces.append((piece_start, prev_end))
                piece_start = None
            pieces.extend(_hard_cut(text, a, b, s))
            tok = wp = 0
            continue
        if piece_start is not None and not _fits(tok + t, wp + w, s):
            pieces.append((piece_start, prev_end))
            piece_start = None
        if piece_start is None:
            piece_start, tok, wp = a, 0, 0
        tok += t
        wp += w
        prev_end = b
    if piece_start is not None:
        pieces.append((piece_start, prev_end))
    return pieces


def _hard_cut(text: str, start: int, end: int, s: ChunkerSettings) -> list[tuple[int, int]]:
    pieces = []
    step = max(s.max_tokens, 16)
    while start < end:
        stop = min(end, start + step)
        while stop > start + 1:
            t, w = count_tokens([text[start:stop]])[0], count_wordpieces([text[start:stop]])[0]
            if _fits(t, w, s):
                break
            stop = start + max(1, (stop - start) * 3 // 4)
        pieces.append((start, stop))
        start = stop
    return pieces


def _units(doc: Document, s: ChunkerSettings) -> list[_Unit]:
    text = doc.text
    bounds = sorted({sec.start for sec in doc.sections if 0 < sec.start < len(text)})
    spans: list[tuple[int, int, bool, bool]] = []
    for seg_start, seg_end in zip([0] + bounds, bounds + [len(text)]):
        first = True
        prev_end = seg_start
        for a, b in split_sentences(text[seg_start:seg_end], seg_start):
            paragraph = "\n\n" in text[prev_end:a].replace(" ", "").replace("\t", "")
            spans.append((a, b, first, paragraph))
            first = False
            prev_end = b
    tokens = count_tokens([text[a:b] for a, b, _, _ in spans])
    wps = count_wordpieces([text[a:b] for a, b, _, _ in spans])
    units: list[_Unit] = []
    for (a, b, sec, par), t, w in zip(spans, tokens, wps):
        if _fits(t, w, s):
            units.append(_Unit(a, b, t, w, sec, par))
            continue
        pieces = _split_long(text, a, b, s)
        pt = count_tokens([text[x:y] for x, y in pieces])
        pw = count_wordpieces([text[x:y] for x, y in pieces])
        for i, ((x, y), t2, w2) in enumerate(zip(pieces, pt, pw)):
            units.append(_Unit(x, y, t2, w2, sec and i == 0, par and i == 0))
    return units


def chunk_document(doc: Document, settings: ChunkerSettings | None = None) -> list[Chunk]:
    s = settings or ChunkerSettings()
    units = _units(doc, s)
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    tok = wp = 0
    for unit in units:
        if current:
            full = not _fits(tok + unit.tokens, wp + unit.wordpieces, s)
            soft_break = unit.paragraph_start and tok >= s.max_tokens // 2
            if unit.section_start or soft_break or full:
                groups.append(current)
                carry: list[_Unit] = []
                if full and not (unit.section_start or unit.paragraph_start):
                    budget = s.overlap_tokens
                    for prev in reversed(current[1:]):
                        if prev.tokens > budget:
                            break
                        carry.insert(0, prev)
                        budget -= prev.tokens
                    while carry and not _fits(
                        sum(u.tokens for u in carry) + unit.tokens,
                        sum(u.wordpieces for u in carry) + unit.wordpieces,
                        s,
                    ):
                        carry.pop(0)
                current = carry
                tok = sum(u.tokens for u in current)
                wp = sum(u.wordpieces for u in current)
        current.append(unit)
        tok += unit.tokens
        wp += unit.wordpieces
    if current:
        groups.append(current)

    chunks = []
    for group in groups:
        start, end = group[0].start, group[-1].end
        section = doc.locate(start)
        chunks.append(
            Chunk(
                start=start,
                end=end,
                text=doc.text[start:end],
                page=section.page,
                heading=section.heading,
                sentences=[(u.start, u.end) for u in group],
                tokens=count_tokens([doc.text[start:end]])[0],
                wordpieces=sum(u.wordpieces for u in group),
            )
        )
    return chunks
