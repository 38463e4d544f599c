"""The data handed from stage to stage while answering one question.

    Query ──retriever──▶ [Candidate] ──reader──▶ Reading ──pipeline──▶ Answer (qa.answer.results)

Each stage returns one of these; nothing is passed as parallel lists or tuples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qa.index.store import StoredChunk


@dataclass
class Query:
    """A cleaned question, ready for the retrievers and the reader."""

    text: str
    terms: list[str]  # stemmed content words (BM25, word overlap)
    vector: np.ndarray | None  # the question's embedding (None where no stage needs it)
    idf: dict[str, float] = field(default_factory=dict)  # inverse document frequency of each term


@dataclass
class Candidate:
    """A retrieved chunk with the scores each retriever gave it."""

    chunk: StoredChunk
    score: float  # the fused score in hybrid mode (the first fused: rescored by their best sentence), else the single retriever's
    dense_score: float | None = None  # cosine similarity of question and chunk
    lexical_score: float | None = None  # BM25
    dense_rank: int | None = None  # 0-based rank in the dense list, None if not in it
    lexical_rank: int | None = None
    rerank_score: float | None = None  # retriever and span reader combined (qa.answer.reranker), where reranked

    @property
    def chunk_id(self) -> int:
        return self.chunk.id


@dataclass
class SentenceScore:
    """One sentence of a candidate, scored by the sentence ranker."""

    candidate: Candidate
    rank: int  # rank of its candidate among those read
    start: int  # absolute offsets in the document
    end: int
    features: np.ndarray
    score: float = 0.0
    probability: float = 0.0  # calibrated, as if this sentence were the answer

    @property
    def chunk(self) -> StoredChunk:
        return self.candidate.chunk

    @property
    def text(self) -> str:
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]


@dataclass
class SpanPick:
    """A runner-up span the reader considered besides its answer (absolute offsets in the document)."""

    sentence: SentenceScore  # the sentence holding it
    start: int
    end: int
    score: float | None = None  # the trained reader's start + end logits (None: the heuristic reader's)


@dataclass
class Reading:
    """What the reader made of the candidates: the answer span (if any) and how sure it is."""

    sentence: SentenceScore | None  # the sentence holding the answer
    start: int | None  # the answer span, absolute offsets in the document
    end: int | None
    kind: str | None  # the kind of answer the question asks for (qa.answer.answer_types)
    confidence: float
    ranked: list[SentenceScore]  # every sentence read, best first
    span_score: float | None = None  # the trained reader's start + end logits
    null_score: float | None = None  # its [CLS] score for the window the answer is in
    alternatives: list[SpanPick] = field(default_factory=list)  # the best spans of other sentences, best first

    @property
    def text(self) -> str | None:
        if self.sentence is None:
            return None
        chunk = self.sentence.chunk
        return chunk.text[self.start - chunk.start : self.end - chunk.start]
