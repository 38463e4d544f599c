"""The typed result of asking a question, and its JSON form (the same for the CLI, the UI and the API)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
