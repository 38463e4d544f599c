"""Confidence: scores turned into the probability that an answer is right (logistic curves whose
parameters ship in ``qa/models/sentence-ranker.json``, fitted on SQuAD v1.1 train)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PARAMETERS = Path(__file__).resolve().parents[1] / "models" / "sentence-ranker.json"


def sigmoid(x: float) -> float:
    if x < -700:  # math.exp overflows past ~709
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class SentenceCurve:
    """confidence = sigmoid(bias + score · s + lead · min(s − runner-up's s, max_lead))"""

    bias: float
    score: float
    lead: float
    max_lead: float

    def __call__(self, score: float, lead: float) -> float:
        return sigmoid(self.bias + self.score * score + self.lead * min(lead, self.max_lead))


@dataclass(frozen=True)
class SpanCurve:
    """confidence = sigmoid(bias + span · span score + sentence · best sentence score)"""

    bias: float
    span: float
    sentence: float

    def __call__(self, span_score: float, sentence_score: float) -> float:
        return sigmoid(self.bias + self.span * span_score + self.sentence * sentence_score)


def _fields(data: dict, cls) -> dict:
    return {k: float(data[k]) for k in cls.__dataclass_fields__}


@lru_cache(maxsize=None)
def parameters(path: Path = PARAMETERS) -> dict:
    return json.loads(Path(path).read_text())


def sentence_curve(path: Path = PARAMETERS) -> SentenceCurve:
    return SentenceCurve(**_fields(parameters(path)["sentence_confidence"], SentenceCurve))


def span_curve(path: Path = PARAMETERS) -> SpanCurve:
    return SpanCurve(**_fields(parameters(path)["span_confidence"], SpanCurve))


# --- the trained reader's calibrated confidence ----------------------------------------------------------

ANSWER_FEATURES = (
    "span_score",  # the span reader's start + end logits
    "null_margin",  # span score minus its window's [CLS] ("no answer") score
    "sentence_score",  # the best sentence's ranking score
    "holder_cosine",  # the answer sentence's cosine with the question
    "holder_overlap",  # the share of the question's IDF-weighted words the answer sentence holds
    "dense_agree",  # 1 / (1 + rank) of the answer's passage in the dense ranking (0: not in it)
    "lexical_agree",  # the same in the BM25 ranking
    "repeats",  # other passages read that hold the answer text too (0, 1/3, 2/3, 1)
    "answer_words",  # log(1 + words in the answer)
    "typed",  # the question asks for a number, date, person, place or name
    "runner_up_lead",  # span score minus the best span score in another sentence read (capped; NaN: none)
)
MAX_RUNNER_UP_LEAD = 15.0  # logits; a lead past this says no more
CALIBRATION = Path(__file__).resolve().parents[1] / "models" / "confidence.json"


def answer_features(reading, candidates) -> np.ndarray | None:
    """The signals of ``ANSWER_FEATURES`` for a trained-reader ``Reading`` over the ``candidates`` read;
    None when there is no span. A retriever that did not run (``--mode dense`` or ``bm25``) gives NaN for
    its agreement signal: unknown, not "ranked nowhere"."""
    if reading.sentence is None or reading.span_score is None:
        return None
    holder = reading.sentence
    text = (reading.text or "").lower()
    others = [c for c in candidates if c is not holder.candidate and text and text in c.chunk.text.lower()]
    cand = holder.candidate
    dense_ran = any(c.dense_rank is not None for c in candidates)
    lexical_ran = any(c.lexical_rank is not None for c in candidates)

    def agree(r: int | None, ran: bool) -> float:
        return math.nan if not ran else 0.0 if r is None else 1.0 / (1 + r)

    runner_up = next((p.score for p in reading.alternatives if p.score is not None), None)
    lead = math.nan if runner_up is None else min(reading.span_score - runner_up, MAX_RUNNER_UP_LEAD)
    return np.array([
        reading.span_score,
        reading.span_score - (reading.null_score or 0.0),
        reading.ranked[0].score,
        holder.features[0],
        holder.features[1],
        agree(cand.dense_rank, dense_ran),
        agree(cand.lexical_rank, lexical_ran),
        min(len(others), 3) / 3,
        math.log1p(len(text.split())),
        float(reading.kind is not None),
        lead,
    ], dtype=float)


@dataclass(frozen=True)
class LogisticCalibration:
    """confidence = sigmoid(bias + weights · standardised features) (Platt scaling over several signals)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def __call__(self, x: np.ndarray) -> float:
        """Unknown signals (NaN) count as average: they move the confidence neither way."""
        z = np.nan_to_num((x - self.mean) / self.scale, nan=0.0)
        return sigmoid(self.bias + float(z @ self.weights))

    @classmethod
    def load(cls, path: Path = CALIBRATION) -> LogisticCalibration | None:
        if not Path(path).exists():
            return None
        data = json.loads(Path(path).read_text())
        if tuple(data["features"]) != ANSWER_FEATURES:
            raise ValueError(f"{path} is for features {data['features']}, not {ANSWER_FEATURES}")
        return cls(tuple(data["features"]), np.array(data["mean"]), np.array(data["scale"]),
                   np.array(data["weights"]), float(data["bias"]))
