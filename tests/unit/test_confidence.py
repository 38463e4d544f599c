"""qa.answer.confidence: the logistic curves, by hand, and the shipped parameters."""

import json
import math

import numpy as np
import pytest

from qa.answer.confidence import (
    PARAMETERS,
    SentenceCurve,
    SpanCurve,
    parameters,
    sentence_curve,
    sigmoid,
    span_curve,
)
from qa.answer.sentence_ranker import FEATURES, shipped_weights


def test_sigmoid_values():
    assert sigmoid(0.0) == 0.5
    assert sigmoid(math.log(3)) == pytest.approx(0.75)  # 1 / (1 + 1/3)
    assert sigmoid(-math.log(3)) == pytest.approx(0.25)
    assert sigmoid(2.0) + sigmoid(-2.0) == pytest.approx(1.0)
    assert sigmoid(800.0) == 1.0
    assert sigmoid(-701.0) == 0.0  # math.exp(701) would overflow: clamped
    assert 0.0 < sigmoid(-700.0) < 1e-300  # just inside the clamp: still computed


def test_sentence_curve_by_hand():
    curve = SentenceCurve(bias=-1.0, score=0.5, lead=1.0, max_lead=2.0)
    assert curve(2.0, 1.0) == pytest.approx(sigmoid(1.0))  # -1 + 0.5*2 + 1*1
    assert curve(2.0, 5.0) == pytest.approx(sigmoid(2.0))  # the lead is capped at 2
    assert curve(2.0, 2.0) == pytest.approx(sigmoid(2.0))
    assert curve(0.0, -1.0) == pytest.approx(sigmoid(-2.0))  # a negative lead is not capped
    assert curve(2.0, 0.0) == 0.5


def test_span_curve_by_hand():
    curve = SpanCurve(bias=-2.0, span=1.0, sentence=0.5)
    assert curve(1.0, 2.0) == 0.5  # -2 + 1 + 1 = 0
    assert curve(3.0, 2.0) == pytest.approx(sigmoid(2.0))
    assert curve(0.0, 0.0) == pytest.approx(1 / (1 + math.e ** 2))


def test_the_shipped_parameters_load():
    data = json.loads(PARAMETERS.read_text())
    assert PARAMETERS.name == "sentence-ranker.json" and PARAMETERS.parent.name == "models"
    assert parameters() == data
    assert sentence_curve() == SentenceCurve(bias=-5.738, score=0.3851, lead=0.7390, max_lead=5.0)
    assert span_curve() == SpanCurve(bias=-8.2021, span=0.3746, sentence=0.3352)
    assert tuple(data["features"]) == FEATURES
    np.testing.assert_array_equal(shipped_weights(), [12.448, 5.380, 0.975, 0.909, 1.182, 2.742])


def test_curves_load_from_another_file(tmp_path):
    path = tmp_path / "params.json"
    path.write_text(json.dumps({
        "sentence_confidence": {"bias": "1", "score": 2, "lead": 3, "max_lead": 4, "about": "ignored"},
        "span_confidence": {"bias": 0, "span": 1, "sentence": 2},
    }))
    assert sentence_curve(path) == SentenceCurve(1.0, 2.0, 3.0, 4.0)  # values made floats, extra keys ignored
    assert span_curve(path) == SpanCurve(0.0, 1.0, 2.0)
    assert span_curve(path)(1.0, 1.0) == pytest.approx(sigmoid(3.0))


# --- the calibrated confidence over several signals --------------------------------------------------------


from qa.answer.confidence import ANSWER_FEATURES, LogisticCalibration, answer_features  # noqa: E402
from qa.answer.types import Candidate, Reading, SentenceScore, SpanPick  # noqa: E402
from qa.index.store import StoredChunk  # noqa: E402


def _calibration(weights, bias=0.0):
    n = len(ANSWER_FEATURES)
    return LogisticCalibration(ANSWER_FEATURES, np.zeros(n), np.ones(n), np.array(weights, dtype=float), bias)


def test_logistic_calibration_by_hand():
    cal = _calibration([1.0] + [0.0] * (len(ANSWER_FEATURES) - 1), bias=-2.0)
    x = np.zeros(len(ANSWER_FEATURES))
    x[0] = 2.0
    assert cal(x) == pytest.approx(0.5)  # sigmoid(-2 + 2)
    x[0] = 4.0
    assert cal(x) == pytest.approx(1 / (1 + math.exp(-2)))


def test_an_unknown_signal_counts_as_average():
    n = len(ANSWER_FEATURES)
    cal = LogisticCalibration(ANSWER_FEATURES, np.full(n, 3.0), np.full(n, 2.0), np.ones(n), 0.0)
    x = np.full(n, 3.0)  # every signal at its mean: sigmoid(0)
    x[5] = math.nan
    assert cal(x) == pytest.approx(0.5)


def test_the_shipped_calibration_loads_and_names_its_features():
    cal = LogisticCalibration.load()
    assert cal is not None and cal.features == ANSWER_FEATURES
    assert cal.weights.shape == cal.mean.shape == cal.scale.shape == (len(ANSWER_FEATURES),)


def _chunk(cid, text):
    return StoredChunk(cid, f"d{cid}.txt", cid, 0, len(text), text, None, None, [(0, len(text))],
                       np.zeros((1, 384), dtype=np.float32))


def test_answer_features_by_hand():
    a = Candidate(_chunk(1, "The bell was cast in 1790 by Paul Revere."), 0.9, dense_rank=1, lexical_rank=0)
    b = Candidate(_chunk(2, "Revere cast it in 1790, records say."), 0.5, dense_rank=0, lexical_rank=None)
    holder = SentenceScore(a, 0, 0, len(a.chunk.text), np.array([0.8, 0.6, 0.7, 1.0, 1.0, 0.0]), score=12.0)
    other = SentenceScore(b, 1, 0, len(b.chunk.text), np.zeros(6), score=9.0)
    reading = Reading(holder, 21, 25, "date", 0.0, [holder, other], span_score=15.0, null_score=-3.0,
                      alternatives=[SpanPick(other, 0, 6, 11.5), SpanPick(other, 17, 22, 9.0)])
    assert reading.text == "1790"
    x = answer_features(reading, [a, b])
    expected = [15.0, 18.0, 12.0, 0.8, 0.6, 1 / 2, 1.0, 1 / 3, math.log1p(1), 1.0, 3.5]
    assert x.tolist() == pytest.approx(expected)
    # in dense mode BM25 never ran: its agreement is unknown, not "ranked nowhere"
    a.lexical_rank = None
    assert math.isnan(answer_features(reading, [a, b])[6])
    # no span in another sentence: the lead is unknown; a lead far ahead is capped
    reading.alternatives = []
    assert math.isnan(answer_features(reading, [a, b])[10])
    reading.alternatives = [SpanPick(other, 0, 6, -40.0)]
    assert answer_features(reading, [a, b])[10] == 15.0


def test_no_span_no_features():
    assert answer_features(Reading(None, None, None, None, 0.0, []), []) is None
