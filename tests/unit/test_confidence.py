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
