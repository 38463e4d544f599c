"""Find the chunks that best match a question: dense (vectors), lexical (BM25) or both, fused
(``qa.answer.fusion``)."""

from __future__ import annotations

import time

import numpy as np

from qa.answer.fusion import fuse_scores, reciprocal_rank_fusion
from qa.answer.types import Candidate, Query
from qa.index.store import Store
from qa.settings import check_mode


def dense_search(store: Store, vector, k: int, within: list[int] | None = None) -> list[tuple[int, float]]:
    """(chunk id, cosine) of the ``k`` nearest chunks; only among ``within`` when given, by an exact scan
    of those chunks (a scope of a few documents holds far fewer chunks than the index)."""
    if within is None:
        return store.dense_search(vector, k)
    return sorted(store.dense_scores(within, vector).items(), key=lambda kv: (-kv[1], kv[0]))[:k]


class Retriever:
    def __init__(self, store: Store, *, depth: int, fusion: str, fusion_weight: float) -> None:
        """``depth``: candidates taken from each side before fusion; ``fusion`` / ``fusion_weight``: see
        ``qa.settings.Settings``."""
        self.store = store
        self.depth = depth
        self.fusion, self.fusion_weight = fusion, fusion_weight

    def run(self, query: Query, *, n: int, mode: str, rescore: int = 0, within: list[int] | None = None,
            timings: dict[str, float] | None = None) -> list[Candidate]:
        """The ``n`` best chunks, best first, with their text fetched. The first ``rescore`` also get a
        dense score where only BM25 found them (the reader uses it). ``within``: only these chunk ids (a
        scope of documents). Adds the milliseconds spent per stage (dense, bm25, fuse) to ``timings``.

        Chunks removed by a build that committed meanwhile (PostgreSQL reads live) are left out.
        """
        check_mode(mode)
        timings = {} if timings is None else timings
        depth = max(self.depth, n)
        t0 = time.perf_counter()
        dense = dense_search(self.store, query.vector, depth, within) if mode != "bm25" else []
        t1 = time.perf_counter()
        lexical = self.store.lexical_search(query.terms, depth, within=within) if mode != "dense" else []
        t2 = time.perf_counter()
        scores: dict[int, dict] = {}
        for rank, (cid, s) in enumerate(dense):
            scores[cid] = {"score": s, "dense_score": s, "dense_rank": rank}
        for rank, (cid, s) in enumerate(lexical):
            scores.setdefault(cid, {"score": s}).update(lexical_score=s, lexical_rank=rank)
        if mode == "hybrid":
            self._fuse(query, scores, dense, lexical)
        ranked = sorted(scores, key=lambda cid: -scores[cid]["score"])[:n]
        t3 = time.perf_counter()
        timings["dense"] = (t1 - t0) * 1000
        timings["bm25"] = (t2 - t1) * 1000
        timings["fuse"] = (t3 - t2) * 1000
        candidates = [Candidate(chunk, **scores[chunk.id]) for chunk in self.store.chunks(ranked)]
        self._fill_dense_scores(query, candidates[:rescore])
        return candidates

    def _fuse(self, query: Query, scores: dict[int, dict], dense, lexical) -> None:
        """Set each candidate's fused score."""
        if self.fusion == "rrf":
            for cid, s in reciprocal_rank_fusion([[c for c, _ in dense], [c for c, _ in lexical]]).items():
                scores[cid]["score"] = s
            return
        missing = [cid for cid, s in scores.items() if "dense_score" not in s]
        for cid, cos in (self.store.dense_scores(missing, query.vector) if missing else {}).items():
            scores[cid]["dense_score"] = cos  # the exact cosine of what only BM25 found
        ids = list(scores)
        fused = fuse_scores(np.array([scores[c].get("dense_score", 0.0) for c in ids]),
                            np.array([scores[c].get("lexical_score", 0.0) for c in ids]),
                            method=self.fusion, weight=self.fusion_weight)
        for cid, s in zip(ids, fused):
            scores[cid]["score"] = float(s)

    def _fill_dense_scores(self, query: Query, candidates: list[Candidate]) -> None:
        missing = [c.chunk_id for c in candidates if c.dense_score is None]
        if missing and query.vector is not None:
            found = self.store.dense_scores(missing, query.vector)
            for c in candidates:
                if c.dense_score is None:
                    c.dense_score = found.get(c.chunk_id)
