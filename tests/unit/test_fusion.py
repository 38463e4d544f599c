"""qa.answer.fusion: reciprocal rank fusion, checked against sums computed by hand."""

import pytest

from qa.answer.fusion import RRF_K, reciprocal_rank_fusion


def test_default_k_is_60():
    assert RRF_K == 60


def test_two_rankings_sum_one_over_k_plus_rank():
    fused = reciprocal_rank_fusion([[10, 20, 30], [30, 10]])
    assert fused == pytest.approx({
        10: 1 / 61 + 1 / 62,  # 1st in the first list, 2nd in the second
        20: 1 / 62,  # only in the first list, 2nd
        30: 1 / 63 + 1 / 61,  # 3rd, then 1st
    })
    assert sorted(fused, key=fused.get, reverse=True) == [10, 30, 20]  # 1/62 > 1/63 breaks the near tie


def test_an_item_in_one_list_only_gets_one_term():
    fused = reciprocal_rank_fusion([[1], [2]])
    assert fused == {1: 1 / 61, 2: 1 / 61}


def test_custom_k():
    assert reciprocal_rank_fusion([[5, 6, 7]], k=0) == pytest.approx({5: 1.0, 6: 0.5, 7: 1 / 3})
    assert reciprocal_rank_fusion([[5, 6], [6]], k=1) == pytest.approx({5: 0.5, 6: 1 / 3 + 1 / 2})


def test_no_rankings_or_empty_rankings_give_nothing():
    assert reciprocal_rank_fusion([]) == {}
    assert reciprocal_rank_fusion([[], []]) == {}
