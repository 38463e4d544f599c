"""Find the chunks that best match a question: dense (vectors), lexical (BM25) or both, fused
(``qa.answer.fusion``)."""

from __future__ import annotations

import time

from qa.answer.fusion import reciprocal_rank_fusion
from qa.answer.types import Candidate, Query
from qa.index.store import Store
from qa.settings import check_mode

DEFAULT_DEPTH = 100  # candidates taken from each side before fusion


class Retriever:
    def __init__(self, store: Store, depth: int = DEFAULT_DEPTH) -> None:
        self.store = store
        self.depth = depth

    def run(self, query: Query, *, n: int, mode: str, rescore: int = 0,
            timings: dict[str, float] | None = None) -> list[Candidate]:
        """The ``n`` best chunks, best first, with their text fetched. The first ``rescore`` also get a
        dense score where only BM25 found them (the reader uses it). Adds the milliseconds spent per
        stage (dense, bm25, fuse) to ``timings``.

        Chunks removed by a build that committed meanwhile (PostgreSQL reads live) are left out.
        """
        check_mode(mode)
        timings = {} if timings is None else timings
        depth = max(self.depth, n)
        t0 = time.perf_counter()
        dense = self.store.dense_search(query.vector, depth) if mode != "bm25" else []
        t1 = time.perf_counter()
        lexical = self.store.lexical_search(query.terms, depth) if mode != "dense" else []
        t2 = time.perf_counter()
        scores: dict[int, dict] = {}
        for rank, (cid, s) in enumerate(dense):
            scores[cid] = {"score": s, "dense_score": s, "dense_rank": rank}
        for rank, (cid, s) in enumerate(lexical):
            scores.setdefault(cid, {"score": s}).update(lexical_score=s, lexical_rank=rank)
        if mode == "hybrid":
            for cid, s in reciprocal_rank_fusion([[c for c, _ in dense], [c for c, _ in lexical]]).items():
                scores[cid]["score"] = s
        ranked = sorted(scores, key=lambda cid: -scores[cid]["score"])[:n]
        t3 = time.perf_counter()
        timings["dense"] = (t1 - t0) * 1000
        timings["bm25"] = (t2 - t1) * 1000
        timings["fuse"] = (t3 - t2) * 1000
        candidates = [Candidate(chunk, **scores[chunk.id]) for chunk in self.store.chunks(ranked)]
        self._fill_dense_scores(query, candidates[:rescore])
        return candidates

    def _fill_dense_scores(self, query: Query, candidates: list[Candidate]) -> None:
        missing = [c.chunk_id for c in candidates if c.dense_score is None]
        if missing and query.vector is not None:
            found = self.store.dense_scores(missing, query.vector)
            for c in candidates:
                if c.dense_score is None:
                    c.dense_score = found.get(c.chunk_id)
