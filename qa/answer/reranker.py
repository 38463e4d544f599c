"""Rerank retrieved passages with the span reader, as BERTserini does.

The span reader reads question and passage together (a cross-encoder), so it can tell the passage that
answers from one that only shares words with the question. ``Reranker.run`` reads each of the first
``depth`` candidates whole (its first ``MAX_LEN`` word pieces), and orders them by

    (1 - weight) * retrieval + weight * reading

where ``retrieval`` is the candidate's retriever score min-max scaled over those candidates (1: the
best) and ``reading`` is sigmoid(best span score - [CLS] score): the reader's odds that the passage
holds the answer. The candidates after ``depth`` keep their order, after the reranked ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qa.answer.confidence import sigmoid
from qa.answer.span_model import SpanReader
from qa.answer.types import Candidate

# the reader's side, fitted on SQuAD v1.1 train (bench/rerank.py; docs/BENCHMARKS.md, "Reranking")
RERANK_WEIGHT = 0.5


def minmax(values: Sequence[float]) -> np.ndarray:
    """Scaled to [0, 1] (all 1 when they are equal)."""
    x = np.asarray(values, dtype=float)
    lo, hi = float(np.min(x)), float(np.max(x))
    return np.ones_like(x) if hi - lo <= 0 else (x - lo) / (hi - lo)


def reading_odds(span_score: float, null_score: float) -> float:
    """sigmoid(span - [CLS]); 0 for a passage where the reader found no span (score -inf)."""
    return sigmoid(span_score - null_score)


def combine(retrieval: Sequence[float], reading: Sequence[float], weight: float) -> np.ndarray:
    """The reranking score of each candidate (see the module docstring); ``reading`` already in [0, 1]."""
    return (1.0 - weight) * minmax(retrieval) + weight * np.asarray(reading, dtype=float)


class Reranker:
    def __init__(self, span_reader: SpanReader, *, depth: int, weight: float = RERANK_WEIGHT) -> None:
        """``depth``: how many of the first candidates are read; ``weight``: the reader's side (0..1)."""
        self.span_reader = span_reader
        self.depth = depth
        self.weight = weight

    def read(self, question: str, candidates: list[Candidate]) -> list[tuple[float, float]]:
        """(best span score, [CLS] score) of each candidate, read whole; (-inf, 0) where there is no span."""
        scores = [(-math.inf, 0.0)] * len(candidates)
        for span in self.span_reader.spans(question, [c.chunk.text for c in candidates]):
            scores[span.passage] = (span.score, span.null_score)
        return scores

    def run(self, question: str, candidates: list[Candidate]) -> list[Candidate]:
        """The candidates, the first ``depth`` reordered; each read one gets its ``rerank_score``."""
        head, tail = candidates[: self.depth], candidates[self.depth :]
        if len(head) < 2:
            return candidates
        odds = [reading_odds(s, n) for s, n in self.read(question, head)]
        for c, score in zip(head, combine([c.score for c in head], odds, self.weight)):
            c.rerank_score = float(score)
        return sorted(head, key=lambda c: -c.rerank_score) + tail
