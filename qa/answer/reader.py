"""The reader: from the candidates read, the answer span and its confidence.

First every sentence is ranked (``sentence_ranker``). Then either
- the trained span reader (``span_model``) reads the best few sentences, each with its neighbours, and
  quotes its best span; or
- the heuristic reader takes the best sentence and, where the question wants a number, date, person,
  place or organisation, narrows it to the span of that kind nearest the question's words
  (``rule_span``); otherwise it quotes the whole sentence.
The confidence comes from ``confidence``.
"""

from __future__ import annotations

import numpy as np

from qa.answer import answer_types, rule_span
from qa.answer.confidence import (
    LogisticCalibration,
    answer_features,
    sentence_curve,
    span_curve,
)
from qa.answer.sentence_ranker import rank_sentences, shipped_weights
from qa.answer.span_model import SpanReader
from qa.answer.types import Candidate, Query, Reading, SentenceScore, SpanPick

SPAN_WINDOWS = 4  # sentences (with their neighbours) the trained reader reads, at most
SENTENCE_GAP = 3.0  # of those, only the ones scored within this of the best sentence (sentence-ranker units)
MAX_WINDOW_CHARS = 800  # neighbours are left out of windows longer than this
MAX_MERGED_CHARS = 1000  # two windows of one chunk that share a sentence are read as one up to this length (0: never)
ALTERNATIVES = 2  # runner-up spans kept in a Reading (shown beside a tentative answer), each in its own sentence
RUNNER_UPS = 8  # spans looked at per window to find them


class Reader:
    def __init__(self, *, span_reader: SpanReader | None = None, weights: np.ndarray | None = None,
                 windows: int = SPAN_WINDOWS) -> None:
        self.weights = shipped_weights() if weights is None else weights
        self.span_reader = span_reader
        self.windows = windows
        self.sentence_confidence = sentence_curve()
        self.span_confidence = span_curve()
        # the trained reader's calibrated confidence over several signals, where one is shipped
        self.calibration = LogisticCalibration.load() if span_reader is not None else None

    def run(self, query: Query, candidates: list[Candidate]) -> Reading:
        kind = answer_types.question_type(query.text)
        scored = rank_sentences(query, candidates, kind, self.weights)
        if not scored:
            return Reading(None, None, None, kind, 0.0, [])
        for s in scored:
            s.probability = self.sentence_confidence(s.score, 0.0)
        if self.span_reader is not None:
            reading = self._read_spans(query.text, kind, scored)
            features = answer_features(reading, candidates) if self.calibration else None
            if features is not None:
                reading.confidence = self.calibration(features)
            return reading
        best = scored[0]
        lead = best.score - scored[1].score if len(scored) > 1 else self.sentence_confidence.max_lead
        start, end = best.start, best.end
        if kind:
            span = rule_span.best_span(best.text, kind, query.terms)
            if span:
                start, end = best.start + span[0], best.start + span[1]
        reading = Reading(best, start, end, kind, self.sentence_confidence(best.score, lead), scored)
        reading.alternatives = [self._rule_pick(s, kind, query.terms) for s in scored[1 : 1 + ALTERNATIVES]]
        return reading

    @staticmethod
    def _rule_pick(s: SentenceScore, kind: str | None, terms: list[str]) -> SpanPick:
        span = rule_span.best_span(s.text, kind, terms) if kind else None
        return SpanPick(s, s.start + span[0], s.start + span[1]) if span else SpanPick(s, s.start, s.end)

    def _read_spans(self, question: str, kind: str | None, scored: list[SentenceScore]) -> Reading:
        """The trained reader's best span among the top sentences, each read with its neighbours."""
        # a sentence ranked far below the best rarely holds the answer, and its window is where the reader
        # finds a confident wrong span: not read
        windows = self._windows([s for s in scored[: self.windows] if scored[0].score - s.score <= SENTENCE_GAP])
        # several spans a window: the runner-up answers are the best spans of other sentences, and one
        # window may hold all the sentences read
        found = self.span_reader.spans(question, [text for text, _, _ in windows], per_passage=RUNNER_UPS)
        if not found:
            return Reading(None, None, None, kind, 0.0, scored)
        span = found[0]
        best = self._span_pick(span, windows, scored)
        conf = self.span_confidence(span.score, scored[0].score)
        reading = Reading(best.sentence, best.start, best.end, kind, conf, scored, span.score, span.null_score)
        used = {(best.sentence.chunk.source, best.sentence.start)}
        for other in found[1:]:
            if len(reading.alternatives) == ALTERNATIVES:
                break
            pick = self._span_pick(other, windows, scored)
            if (pick.sentence.chunk.source, pick.sentence.start) not in used:
                used.add((pick.sentence.chunk.source, pick.sentence.start))
                reading.alternatives.append(pick)
        return reading

    @staticmethod
    def _span_pick(span, windows: list[tuple[str, int, SentenceScore]], scored: list[SentenceScore]) -> SpanPick:
        """A span of the trained reader in document offsets, with the ranked sentence that holds it."""
        _, base, source_sentence = windows[span.passage]
        start, end = base + span.start, base + span.end
        holder = next(
            (x for x in scored if x.chunk.source == source_sentence.chunk.source and x.start <= start < x.end),
            source_sentence,
        )
        return SpanPick(holder, start, end, span.score)

    @staticmethod
    def _windows(best: list[SentenceScore]) -> list[tuple[str, int, SentenceScore]]:
        """What the span reader reads for the best sentences: each with its neighbours in its chunk (alone
        if that is too long), and two of one chunk that share a sentence as one (the pieces they share are
        read once), best sentence's first. Text, start in the document, the best sentence of the window."""
        bounds: list[list] = []  # [a, b, sentence]
        for s in best:
            spans = s.chunk.sentences
            a, b = window_bounds(spans, spans.index((s.start, s.end)))
            into = next((w for w in bounds if w[2].chunk is s.chunk and a < w[1] and w[0] < b
                         and max(b, w[1]) - min(a, w[0]) <= MAX_MERGED_CHARS), None)
            if into is None:
                bounds.append([a, b, s])
            else:
                into[0], into[1] = min(a, into[0]), max(b, into[1])
        return [(s.chunk.text[a - s.chunk.start : b - s.chunk.start], a, s) for a, b, s in bounds]


def window_bounds(spans: list[tuple[int, int]], j: int) -> tuple[int, int]:
    """What the trained reader reads around sentence ``j`` of ``spans``: the sentence with its neighbours,
    or the sentence alone where that would run past ``MAX_WINDOW_CHARS``."""
    a, b = spans[max(j - 1, 0)][0], spans[min(j + 1, len(spans) - 1)][1]
    return (a, b) if b - a <= MAX_WINDOW_CHARS else spans[j]
