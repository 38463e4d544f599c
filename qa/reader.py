"""The heuristic extractive reader: pick the sentence that answers, then narrow it to a span.

Each sentence of the retrieved chunks gets a score, a weighted sum of
- its cosine similarity with the question (sentence vectors stored at index time),
- the share of the question's IDF-weighted content words it contains,
- the similarity and the rank of its chunk,
- whether it holds a span of the kind the question asks for (number, date, person, place...),
- the share of the question's adjacent word pairs it repeats.
The best sentence wins. Its confidence is a logistic function of its score and of its lead over the
runner-up, calibrated so that about that share of answers is right. The weights were fitted on SQuAD
v1.1 *train* questions (never dev) by ``bench/fit_reader.py``: a listwise (softmax) ranking fit,
then Platt scaling, with questions from articles absent from the index as negatives.

Where the question wants a number, date, person, place or organisation, the answer is the candidate
span of that kind nearest the question's words in the sentence; otherwise the whole sentence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from . import answer_types
from .lexical import STOP_WORDS, stem, words
from .retriever import Hit
from .store import StoredChunk

FEATURES = ("cosine", "overlap", "chunk_cosine", "chunk_rank", "has_candidate", "bigrams")
WEIGHTS = np.array([12.448, 5.380, 0.975, 0.909, 1.182, 2.742])
# confidence = sigmoid(BIAS + A * score + B * min(score - runner-up score, 5))
CONFIDENCE = (-5.738, 0.3851, 0.7390)
MAX_LEAD = 5.0
CUE_BONUS = 40  # characters: "in Paris" beats a closer name with no "in" before it, for a "where" question

SPAN_WINDOWS = 4  # sentences (with their neighbours) the trained reader reads
MAX_WINDOW_CHARS = 800  # neighbours are left out of windows longer than this
# span confidence = sigmoid(BIAS + A * span score + B * best sentence score)
SPAN_CONFIDENCE = (-8.2021, 0.3746, 0.3352)  # fitted by bench/fit_span_confidence.py

# Words that may join a name ("Bank of Japan") but never start or end an answer.
_JOINERS = {"of", "the", "de", "du", "del", "da", "von", "van", "der", "and", "for", "on", "la", "le", "al", "bin"}


@dataclass
class SentenceScore:
    chunk: StoredChunk
    hit: Hit
    rank: int  # rank of the chunk among the retrieved ones
    start: int  # absolute offsets in the document
    end: int
    features: np.ndarray
    score: float = 0.0
    probability: float = 0.0  # calibrated, as if this sentence were the answer


@dataclass
class Reading:
    sentence: SentenceScore | None
    start: int | None  # the answer span, absolute offsets in the document
    end: int | None
    kind: str | None
    confidence: float
    ranked: list[SentenceScore]
    span_score: float | None = None  # the trained reader's start + end logits


def idf_weights(query: list[str], frequencies: dict[str, int], n_chunks: int) -> dict[str, float]:
    n = max(n_chunks, 1)
    return {t: math.log(1 + (n - frequencies.get(t, 0) + 0.5) / (frequencies.get(t, 0) + 0.5)) for t in query}


def _is_asked(token: str, asked: set[str]) -> bool:
    """A token of the question, a joining word, or bare punctuation, judged by its first word."""
    ws = words(token)
    return not ws or ws[0] in _JOINERS or stem(ws[0]) in asked


def _bigrams(tokens: list[str]) -> set[tuple[str, str]]:
    stems = [stem(t) for t in tokens]
    return {(a, b) for a, b in zip(stems, stems[1:]) if not (a in STOP_WORDS and b in STOP_WORDS)}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def span_confidence(span_score: float, top_sentence_score: float) -> float:
    """Confidence of the trained reader's answer: its span score and how well the best sentence matched."""
    bias, a, b = SPAN_CONFIDENCE
    return _sigmoid(bias + a * span_score + b * top_sentence_score)


def confidence(score: float, lead: float) -> float:
    bias, a, b = CONFIDENCE
    return _sigmoid(bias + a * score + b * min(lead, MAX_LEAD))


class Reader:
    """Ranks sentences; then either narrows the best one by rules (heuristic) or lets the trained span
    reader pick the answer inside the best few sentences and their neighbours (``span_reader``)."""

    def __init__(self, weights: np.ndarray = WEIGHTS, span_reader=None, windows: int = SPAN_WINDOWS) -> None:
        self.weights = weights
        self.span_reader = span_reader
        self.windows = windows

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
        pairs = _bigrams(words(question))
        seen: set[tuple[str, int, int]] = set()
        scored: list[SentenceScore] = []
        for rank, (chunk, hit) in enumerate(zip(chunks, hits)):
            cosines = chunk.sentence_vectors @ query_vector if chunk.sentences else []
            for (a, b), cos in zip(chunk.sentences, cosines):
                key = (chunk.source, a, b)
                if key in seen:  # the same sentence in an overlapping chunk
                    continue
                seen.add(key)
                text = chunk.text[a - chunk.start : b - chunk.start]
                tokens = words(text)
                present = {stem(w) for w in tokens}
                features = np.array([
                    float(cos),
                    sum(w for t, w in idf.items() if t in present) / total_idf,
                    hit.dense_score or 0.0,
                    1.0 / (1 + rank),
                    bool(kind and self._spans(text, kind, query)),
                    len(pairs & _bigrams(tokens)) / len(pairs) if pairs else 0.0,
                ])
                scored.append(SentenceScore(chunk, hit, rank, a, b, features))
        if not scored:
            return Reading(None, None, None, kind, 0.0, [])
        scores = np.stack([s.features for s in scored]) @ self.weights
        for s, z in zip(scored, scores):
            s.score = float(z)
            s.probability = confidence(s.score, 0.0)
        scored.sort(key=lambda s: -s.score)
        if self.span_reader is not None:
            return self._read_spans(question, kind, scored)
        best = scored[0]
        lead = best.score - scored[1].score if len(scored) > 1 else MAX_LEAD
        start, end = best.start, best.end
        if kind:
            text = best.chunk.text[best.start - best.chunk.start : best.end - best.chunk.start]
            span = self._best_span(text, kind, query)
            if span:
                start, end = best.start + span[0], best.start + span[1]
        return Reading(best, start, end, kind, confidence(best.score, lead), scored)

    def _read_spans(self, question: str, kind: str | None, scored: list[SentenceScore]) -> Reading:
        """The trained reader's best span among the top sentences, each read with its neighbours."""
        windows = []
        for s in scored[: self.windows]:
            spans = s.chunk.sentences
            j = spans.index((s.start, s.end))
            a, b = spans[max(j - 1, 0)][0], spans[min(j + 1, len(spans) - 1)][1]
            if b - a > MAX_WINDOW_CHARS:
                a, b = s.start, s.end
            windows.append((s.chunk.text[a - s.chunk.start : b - s.chunk.start], a, s))
        found = self.span_reader.spans(question, [w[0] for w in windows])
        if not found:
            return Reading(None, None, None, kind, 0.0, scored)
        span = found[0]
        _, base, source_sentence = windows[span.passage]
        start, end = base + span.start, base + span.end
        holder = next(
            (x for x in scored if x.chunk.source == source_sentence.chunk.source and x.start <= start < x.end),
            source_sentence,
        )
        conf = span_confidence(span.score, scored[0].score)
        return Reading(holder, start, end, kind, conf, scored, span.score)

    @staticmethod
    def _spans(text: str, kind: str, query: list[str]) -> list[answer_types.Candidate]:
        """Candidates of the wanted kind, trimmed of the question's own words ("Minister Motegi" -> "Motegi")."""
        asked = set(query)
        out = []
        for c in answer_types.candidates(text, kind):
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
            near = min(min(abs(a - c.start), abs(a - c.end)) for a in anchors)
            return near - CUE_BONUS if answer_types.cued(text, c.start, kind) else near

        best = min(spans, key=lambda c: (distance(c), c.start))
        return best.start, best.end
