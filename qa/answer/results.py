"""The typed result of asking a question, and its JSON form (the same for the CLI, the UI and the API)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


def ocr_note(confidence: float | None) -> str:
    """'(OCR)', or '(OCR, 91%)' with the OCR engine's mean confidence in the page (floored, at most 99%:
    text read from a picture is never certain)."""
    if confidence is None:
        return "(OCR)"
    return f"(OCR, {min(max(math.floor(confidence * 100), 0), 99)}%)"


def describe_location(page: int | None, section: str | None, ocr: bool = False,
                      ocr_confidence: float | None = None) -> str | None:
    """Where a span stands, for people: 'p. 3', 'p. 3 (OCR)' or 'p. 3 (OCR, 91%)' (text read from a scan:
    it may hold misread words), 'slide 2: Budget', 'Launch' (a heading), 'p. 4 · Results'; None when
    nothing is known."""
    parts = []
    if page is not None:
        parts.append(f"p. {page}" + (" " + ocr_note(ocr_confidence) if ocr else ""))
    if section:
        parts.append(section)
    return " · ".join(parts) or None


@dataclass
class Citation:
    """Where a quoted span stands: ``text == document_text(source)[start:end]``."""

    source: str
    page: int | None
    section: str | None
    start: int
    end: int
    text: str
    sentence: str  # the sentence the span stands in
    sentence_start: int
    sentence_end: int
    title: str = ""  # the document's title for people (``source`` stays the file's path)
    ocr: bool = False  # the span was read from a scanned page or an image (OCR): it may be misread
    location: str | None = None  # page / slide / heading for people (``describe_location``)
    ocr_confidence: float | None = None  # OCR only: the engine's mean confidence in the page, 0..1

    def __post_init__(self) -> None:
        self.location = self.location or describe_location(self.page, self.section, self.ocr, self.ocr_confidence)


@dataclass
class Passage:
    """A retrieved chunk."""

    source: str
    page: int | None
    section: str | None
    start: int
    end: int
    text: str
    score: float
    dense_score: float | None
    lexical_score: float | None
    title: str = ""  # the document's title for people
    ocr: bool = False  # the passage starts on a page read by OCR
    location: str | None = None  # page / slide / heading for people (``describe_location``)
    ocr_confidence: float | None = None  # OCR only: the engine's mean confidence in the page, 0..1

    def __post_init__(self) -> None:
        self.location = self.location or describe_location(self.page, self.section, self.ocr, self.ocr_confidence)


@dataclass
class Answer:
    question: str
    answer: str | None  # None: not found in the documents
    confidence: float
    citations: list[Citation] = field(default_factory=list)  # citations[0] locates the answer itself
    passages: list[Passage] = field(default_factory=list)
    mode: str = "hybrid"
    answer_type: str | None = None
    notice: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    scope: list[str] | None = None  # the documents the question was asked of (None: all)
    alternatives: list[Citation] = field(default_factory=list)  # runner-up answers, best first (found only)

    @property
    def found(self) -> bool:
        return self.answer is not None

    def to_dict(self) -> dict:
        return asdict(self)
