"""How far the engine's confidence can be trusted: calibration and selective-answering metrics.

Every question contributes its confidence ``c`` in [0, 1] and whether the engine got it right
(``correct``: an answer was given and its F1 against the gold answers is at least 0.5; a "not found"
is never correct, at whatever confidence it was given).

- reliability table: ``BINS`` equal-width bins of ``c`` ([0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]); per
  bin the number of questions, their mean confidence and the share correct;
- expected calibration error (ECE): the questions-weighted mean of |share correct − mean confidence|
  over the bins (Naeini et al., 2015; Guo et al., 2017);
- area under the risk–coverage curve (AURC): questions sorted by confidence, highest first; the risk
  at coverage i/n is the share wrong among the first i; AURC is the mean risk over i = 1..n (Geifman
  and El-Yaniv, 2017). Lower is better; a confidence that ranks every right answer first reaches the
  minimum for its accuracy. Ties in confidence are taken in question order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

BINS = 10


@dataclass
class ReliabilityBin:
    low: float
    high: float
    questions: int
    mean_confidence: float | None
    accuracy: float | None  # share correct

    def as_dict(self) -> dict:
        return asdict(self)


def bin_index(confidence: float, bins: int = BINS) -> int:
    """The bin of a confidence; 1.0 falls in the last bin."""
    return min(max(int(confidence * bins), 0), bins - 1)


def reliability(confidences: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> list[ReliabilityBin]:
    counts, conf_sums, right = [0] * bins, [0.0] * bins, [0] * bins
    for c, ok in zip(confidences, correct, strict=True):
        b = bin_index(c, bins)
        counts[b] += 1
        conf_sums[b] += c
        right[b] += bool(ok)
    return [
        ReliabilityBin(round(b / bins, 6), round((b + 1) / bins, 6), counts[b],
                       conf_sums[b] / counts[b] if counts[b] else None, right[b] / counts[b] if counts[b] else None)
        for b in range(bins)
    ]


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> float:
    n = len(confidences)
    if n == 0:
        return 0.0
    return sum(b.questions / n * abs(b.accuracy - b.mean_confidence)
               for b in reliability(confidences, correct, bins) if b.questions)


def risk_coverage_curve(confidences: Sequence[float], correct: Sequence[bool]) -> list[float]:
    """Risk (share wrong) among the i most confident questions, for i = 1..n."""
    order = sorted(range(len(confidences)), key=lambda i: -confidences[i])
    risks, wrong = [], 0
    for i, q in enumerate(order, 1):
        wrong += not correct[q]
        risks.append(wrong / i)
    return risks


def aurc(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    curve = risk_coverage_curve(confidences, correct)
    return sum(curve) / len(curve) if curve else 0.0


def calibration_report(confidences: Sequence[float], correct: Sequence[bool], answered: Sequence[bool],
                       ranked_right: Sequence[bool] | None = None) -> dict:
    """The ``qa eval`` keys: ``ece``, ``aurc``, ``answered``, ``answered_accuracy``, ``reliability``.
    ``ranked_right`` is what the risk-coverage curve judges (default: ``correct``)."""
    n = len(confidences)
    n_answered = sum(bool(a) for a in answered)
    right_answered = sum(bool(a) and bool(ok) for a, ok in zip(answered, correct, strict=True))
    return {
        "ece": round(expected_calibration_error(confidences, correct), 4),
        "aurc": round(aurc(confidences, correct if ranked_right is None else ranked_right), 4),
        "answered": round(n_answered / n, 4) if n else None,
        "answered_accuracy": round(right_answered / n_answered, 4) if n_answered else None,
        "reliability": [b.as_dict() for b in reliability(confidences, correct)],
    }
