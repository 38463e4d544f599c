"""Find the chunks that best match a question: dense (vectors), lexical (BM25) or both,
fused by reciprocal rank fusion."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .store import Store

MODES = ("hybrid", "dense", "bm25")
RRF_K = 60


@dataclass
class Hit:
    chunk_id: int
    score: float  # fused score (RRF in hybrid mode, else the single retriever's score)
    dense_score: float | None = None  # cosine similarity of question and chunk
    lexical_score: float | None = None  # BM25
    dense_rank: int | None = None
    lexical_rank: int | None = None


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank + 1)
    return fused


class Retriever:
    def __init__(self, store: Store, depth: int = 100) -> None:
        self.store = store
        self.depth = depth  # candidates taken from each side before fusion

    def run(
        self,
        query_vector: np.ndarray | None,
        query: list[str],
        k: int,
        mode: str = "hybrid",
        timings: dict[str, float] | None = None,
    ) -> list[Hit]:
        """The ``k`` best chunks. Adds milliseconds spent per stage (dense, bm25, fuse) to ``timings``."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        timings = {} if timings is None else timings
        depth = max(self.depth, k)
        t0 = time.perf_counter()
        dense = self.store.dense_search(query_vector, depth) if mode != "bm25" else []
        t1 = time.perf_counter()
        lexical = self.store.lexical_search(query, depth) if mode != "dense" else []
        t2 = time.perf_counter()
        hits: dict[int, Hit] = {}
        for rank, (cid, s) in enumerate(dense):
            hits[cid] = Hit(cid, s, dense_score=s, dense_rank=rank)
        for rank, (cid, s) in enumerate(lexical):
            hit = hits.setdefault(cid, Hit(cid, s))
            hit.lexical_score, hit.lexical_rank = s, rank
        if mode == "hybrid":
            fused = reciprocal_rank_fusion([[c for c, _ in dense], [c for c, _ in lexical]])
            for cid, s in fused.items():
                hits[cid].score = s
        ranked = sorted(hits.values(), key=lambda h: -h.score)[:k]
        t3 = time.perf_counter()
        timings["dense"] = (t1 - t0) * 1000
        timings["bm25"] = (t2 - t1) * 1000
        timings["fuse"] = (t3 - t2) * 1000
        return ranked
