"""Confidence: scores turned into the probability that an answer is right (logistic curves whose
parameters ship in ``qa/models/sentence-ranker.json``, fitted on SQuAD v1.1 train)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
