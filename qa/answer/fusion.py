"""Fusing the dense and the lexical ranking into one, then rescoring the best of them by their best
sentence (``sentence_rescore``)."""

from __future__ import annotations

import numpy as np

RRF_K = 60


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Each item's sum over the rankings of 1 / (k + rank), rank counted from 1 (Cormack et al., 2009)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank + 1)
    return fused


FUSIONS = ("minmax", "max", "zscore", "cosine_bm25max")


def scale_minmax(x: np.ndarray) -> np.ndarray:
    span = x.max() - x.min() if x.size else 0.0
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def _max(x: np.ndarray) -> np.ndarray:
    top = x.max() if x.size else 0.0
    return x / top if top > 0 else np.zeros_like(x)


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std() if x.size else 0.0
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def fuse_scores(dense: np.ndarray, bm25: np.ndarray, *, method: str, weight: float) -> np.ndarray:
    """Convex score fusion ``weight · norm(dense) + (1 − weight) · norm(bm25)`` over one question's
    candidates. ``dense``: cosine of every candidate; ``bm25``: its BM25 score, 0 where BM25 did not
    rank it. Normalisations (each side separately, over the candidates): ``minmax`` to [0, 1]; ``max``
    divides by the best; ``zscore`` centres and scales; ``cosine_bm25max`` keeps the cosine as it is
    and divides BM25 by its best.
    """
    dense = np.asarray(dense, dtype=float)
    bm25 = np.asarray(bm25, dtype=float)
    if method == "minmax":
        d, b = scale_minmax(dense), scale_minmax(bm25)
    elif method == "max":
        d, b = _max(dense), _max(bm25)
    elif method == "zscore":
        d, b = _z(dense), _z(bm25)
    elif method == "cosine_bm25max":
        d, b = dense, _max(bm25)
    else:
        raise ValueError(f"unknown fusion {method!r}; choose one of {', '.join(FUSIONS)}")
    return weight * d + (1 - weight) * b


# chunk cosine, best sentence's cosine, BM25: fitted on SQuAD v1.1 train (60 articles, 2,000 questions,
# best recall@1 + recall@5 over a grid of 0.05 steps; bench/fusion.py, docs/BENCHMARKS.md "Best sentence in
# the fusion") and checked on SQuAD dev, product reviews and privacy policies
SENTENCE_WEIGHTS = (0.05, 0.40, 0.55)


def sentence_rescore(dense: np.ndarray, sentence: np.ndarray, bm25: np.ndarray,
                     weights: tuple[float, float, float] = SENTENCE_WEIGHTS) -> np.ndarray:
    """Second stage of score fusion over the first fused candidates: ``w_d · dense + w_s ·
    minmax(sentence) + w_b · bm25``, where ``dense`` and ``bm25`` are the candidates' min-max scaled scores
    over the whole fused pool (as ``fuse_scores`` scaled them) and ``sentence`` is each one's best
    sentence's cosine to the question, scaled here over these candidates. A chunk embeds ~200 word pieces
    into one vector, so a one-sentence answer is diluted in it; its sentence vector is not."""
    w_dense, w_sentence, w_bm25 = weights
    return (w_dense * np.asarray(dense, dtype=float) + w_sentence * scale_minmax(np.asarray(sentence, dtype=float))
            + w_bm25 * np.asarray(bm25, dtype=float))
