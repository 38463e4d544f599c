import math

import numpy as np
import pytest

from qa.answer.reranker import combine, minmax, reading_odds


def test_minmax_scales_to_unit_range_and_keeps_ties():
    assert minmax([2.0, 4.0, 3.0]).tolist() == [0.0, 1.0, 0.5]
    assert minmax([0.7, 0.7]).tolist() == [1.0, 1.0]  # nothing to tell apart: all best


def test_reading_odds_is_the_sigmoid_of_span_minus_no_answer():
    assert reading_odds(3.0, 3.0) == 0.5
    assert reading_odds(2.0, 0.0) == pytest.approx(1 / (1 + math.exp(-2)))
    assert reading_odds(-math.inf, 1.0) == 0.0  # no span at all
    assert reading_odds(900.0, 0.0) == 1.0 and reading_odds(-900.0, 0.0) == pytest.approx(0.0)


def test_combine_mixes_the_scaled_retrieval_and_the_reading():
    # retrieval 0.9 / 0.7 / 0.5 scales to 1 / 0.5 / 0; reading odds 0.1 / 0.9 / 0.2
    scores = combine([0.9, 0.7, 0.5], [0.1, 0.9, 0.2], 0.5)
    assert scores == pytest.approx([0.55, 0.7, 0.1])
    assert np.argsort(-combine([0.9, 0.7, 0.5], [0.1, 0.9, 0.2], 0.0)).tolist() == [0, 1, 2]  # retriever only
    assert np.argsort(-combine([0.9, 0.7, 0.5], [0.1, 0.9, 0.2], 1.0)).tolist() == [1, 2, 0]  # reader only
