"""The heuristic extractive reader: pick the sentence that answers, then narrow it to a span.

Each sentence of the retrieved chunks is scored from
- its cosine similarity with the question (sentence vectors stored at index time),
- the share of the question's IDF-weighted content words it contains,
- the similarity and rank of its chunk,
- whether it holds a span of the kind the question asks for (number, date, person, place...).
A logistic model turns these into a probability that the sentence holds the answer: that is the
answer's confidence. Where the question wants a number, date, person, place or organisation, the answer
is the candidate span of that kind nearest the question's words in the sentence; else the sentence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from . import answer_types
from .lexical import stem, words
from .retriever import Hit
from .store import StoredChunk

# Logistic weights for: bias, sentence cosine, word overlap, chunk cosine, 1/(1+chunk rank), candidate present.
WEIGHTS = np.array([-7.0, 5.0, 5.0, 2.0, 0.8, 0.6])


@dataclass
class SentenceScore:
    chunk: StoredChunk
    hit: Hit
    rank: int  # rank of the chunk among the retrieved ones
    start: int  # absolute offsets in the document
    end: int
    features: np.ndarray
    probability: float = 0.0


@dataclass
class Reading:
    sentence: SentenceScore | None
    start: int | None  # the answer span, absolute offsets in the document
    end: int | None
    kind: str | None
    confidence: float
    ranked: list[SentenceScore]


def idf_weights(query: list[str], frequencies: dict[str, int], n_chunks: int) -> dict[str, float]:
    n = max(n_chunks, 1)
    return {t: math.log(1 + (n - frequencies.get(t, 0) + 0.5) / (frequencies.get(t, 0) + 0.5)) for t in query}


def _is_asked(token: str, asked: set[str]) -> bool:
    """A token of the question (or bare punctuation), judged by its first word."""
    ws = words(token)
    return not ws or stem(ws[0]) in asked


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class Reader:
    def __init__(self, weights: np.ndarray = WEIGHTS) -> None:
        self.weights = weights

    def run(
        self,
        question: str,
        query_vector: np.ndarray,
        query: list[str],
        idf: dict[str, float],
        chunks: list[StoredChunk],
        hits: list[Hit],
    ) -> Reading:
        kind = answer_types.question_type(question)
        total_idf = sum(idf.values()) or 1.0
        seen: set[tuple[str, int, int]] = set()
        scored: list[SentenceScore] = []
        for rank, (chunk, hit) in enumerate(zip(chunks, hits)):
            if not chunk.sentences:
                continue
            cosines = chunk.sentence_vectors @ query_vector
            for (a, b), cos in zip(chunk.sentences, cosines):
                key = (chunk.source, a, b)
                if key in seen:
                    continue
                seen.add(key)
                text = chunk.text[a - chunk.start : b - chunk.start]
                present = {stem(w) for w in words(text)}
                overlap = sum(w for t, w in idf.items() if t in present) / total_idf
                has_candidate = bool(kind and self._spans(text, kind, query))
                features = np.array([1.0, float(cos), overlap, hit.dense_score or 0.0, 1.0 / (1 + rank), has_candidate])
                scored.append(SentenceScore(chunk, hit, rank, a, b, features))
        if not scored:
            return Reading(None, None, None, kind, 0.0, [])
        logits = np.stack([s.features for s in scored]) @ self.weights
        for s, z in zip(scored, logits):
            s.probability = _sigmoid(float(z))
        scored.sort(key=lambda s: -s.probability)
        best = scored[0]
        start, end = best.start, best.end
        if kind:
            text = best.chunk.text[best.start - best.chunk.start : best.end - best.chunk.start]
            span = self._best_span(text, kind, query)
            if span:
                start, end = best.start + span[0], best.start + span[1]
        return Reading(best, start, end, kind, best.probability, scored)

    @staticmethod
    def _spans(text: str, kind: str, query: list[str]) -> list[answer_types.Candidate]:
        """Candidates of the wanted kind that are not just words of the question."""
        asked = set(query)
        out = []
        for c in answer_types.candidates(text, kind):
            # trim words of the question off both ends: "Foreign Minister Motegi" -> "Motegi"
            toks = list(re.finditer(r"\S+", text[c.start : c.end]))
            while toks and _is_asked(toks[0].group(0), asked):
                toks.pop(0)
            while toks and _is_asked(toks[-1].group(0), asked):
                toks.pop()
            if toks:
                out.append(answer_types.Candidate(c.start + toks[0].start(), c.start + toks[-1].end(), c.kind))
        return out

    def _best_span(self, text: str, kind: str, query: list[str]) -> tuple[int, int] | None:
        spans = self._spans(text, kind, query)
        if not spans:
            return None
        asked = set(query)
        anchors = [m.start() for m in re.finditer(r"\w+", text) if stem(m.group(0).lower()) in asked]
        if not anchors:
            return spans[0].start, spans[0].end

        def distance(c: answer_types.Candidate) -> int:
            return min(min(abs(a - c.start), abs(a - c.end)) for a in anchors)

        best = min(spans, key=lambda c: (distance(c), c.start))
        return best.start, best.end
