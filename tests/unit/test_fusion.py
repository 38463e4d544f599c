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


# --- convex score fusion ---------------------------------------------------------------------------------

from qa.answer.fusion import FUSIONS, fuse_scores  # noqa: E402


def test_minmax_fusion_by_hand():
    dense, bm25 = [0.2, 0.6, 0.4], [10.0, 0.0, 5.0]
    # min-max: dense -> 0, 1, 0.5; bm25 -> 1, 0, 0.5
    assert fuse_scores(dense, bm25, method="minmax", weight=0.25).tolist() == pytest.approx([0.75, 0.25, 0.5])


def test_max_fusion_by_hand():
    dense, bm25 = [0.5, 0.25], [4.0, 8.0]
    # dense / 0.5 -> 1, 0.5; bm25 / 8 -> 0.5, 1
    assert fuse_scores(dense, bm25, method="max", weight=0.5).tolist() == pytest.approx([0.75, 0.75])
    assert fuse_scores(dense, bm25, method="max", weight=1.0).tolist() == pytest.approx([1.0, 0.5])


def test_zscore_fusion_by_hand():
    dense, bm25 = [1.0, 3.0], [0.0, 0.0]  # z: -1, 1 (population sd 1); a constant side contributes 0
    assert fuse_scores(dense, bm25, method="zscore", weight=0.5).tolist() == pytest.approx([-0.5, 0.5])


def test_cosine_is_kept_as_is_and_bm25_divided_by_its_best():
    assert fuse_scores([0.3, 0.9], [2.0, 1.0], method="cosine_bm25max", weight=0.5).tolist() == pytest.approx(
        [0.5 * 0.3 + 0.5 * 1.0, 0.5 * 0.9 + 0.5 * 0.5])


def test_weight_zero_and_one_give_one_side_ranking():
    import numpy as np

    dense, bm25 = np.array([0.1, 0.9, 0.5]), np.array([3.0, 1.0, 2.0])
    for method in FUSIONS:
        assert list(np.argsort(-fuse_scores(dense, bm25, method=method, weight=1.0))) == [1, 2, 0], method
        assert list(np.argsort(-fuse_scores(dense, bm25, method=method, weight=0.0))) == [0, 2, 1], method


def test_unknown_fusion_is_refused():
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse_scores([1.0], [1.0], method="sum", weight=0.5)


# --- second stage: the best sentence -----------------------------------------------------------------------

from qa.answer.fusion import SENTENCE_WEIGHTS, sentence_rescore  # noqa: E402


def test_sentence_rescore_by_hand():
    # dense and BM25 come scaled over the pool; the sentence cosines 0.2 / 0.8 / 0.5 scale here to 0 / 1 / 0.5
    dense, sentence, bm25 = [1.0, 0.5, 0.0], [0.2, 0.8, 0.5], [0.0, 1.0, 0.5]
    assert SENTENCE_WEIGHTS == (0.05, 0.40, 0.55)
    assert sentence_rescore(dense, sentence, bm25).tolist() == pytest.approx([0.05, 0.975, 0.475])
    assert sentence_rescore(dense, sentence, bm25, (1.0, 0.0, 0.0)).tolist() == pytest.approx(dense)
    # equal sentence cosines tell nothing apart: that side adds 0 to each
    assert sentence_rescore(dense, [0.3, 0.3, 0.3], bm25).tolist() == pytest.approx([0.05, 0.575, 0.275])
