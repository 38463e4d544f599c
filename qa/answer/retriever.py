"""Find the chunks that best match a question: dense (vectors), lexical (BM25) or both, fused
(``qa.answer.fusion``), the best fused ones then rescored by their best sentence."""

from __future__ import annotations

import time

import numpy as np

from qa.answer.fusion import (
    fuse_scores,
    reciprocal_rank_fusion,
    scale_minmax,
    sentence_rescore,
)
from qa.answer.types import Candidate, Query
from qa.index.store import Store, StoredChunk
from qa.settings import check_mode


def dense_search(store: Store, vector, k: int, within: list[int] | None = None) -> list[tuple[int, float]]:
    """(chunk id, cosine) of the ``k`` nearest chunks; only among ``within`` when given, by an exact scan
    of those chunks (a scope of a few documents holds far fewer chunks than the index)."""
    if within is None:
        return store.dense_search(vector, k)
    return sorted(store.dense_scores(within, vector).items(), key=lambda kv: (-kv[1], kv[0]))[:k]


class Retriever:
    def __init__(self, store: Store, *, depth: int, fusion: str, fusion_weight: float,
                 sentence_rescore: int = 0) -> None:
        """``depth``: candidates taken from each side before fusion; ``fusion`` / ``fusion_weight`` /
        ``sentence_rescore``: see ``qa.settings.Settings``."""
        self.store = store
        self.depth = depth
        self.fusion, self.fusion_weight = fusion, fusion_weight
        self.sentence_rescore = sentence_rescore

    def run(self, query: Query, *, n: int, mode: str, rescore: int = 0, within: list[int] | None = None,
            timings: dict[str, float] | None = None) -> list[Candidate]:
        """The ``n`` best chunks, best first, with their text fetched. The first ``rescore`` also get a
        dense score where only BM25 found them (the reader uses it). ``within``: only these chunk ids (a
        scope of documents). Adds the milliseconds spent per stage (dense, bm25, fuse: the sentence
        rescoring included) to ``timings``.

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
        scaled = self._fuse(query, scores, dense, lexical) if mode == "hybrid" else None
        ranked = sorted(scores, key=lambda cid: -scores[cid]["score"])
        fetched: dict[int, StoredChunk] = {}
        if scaled is not None and self.sentence_rescore > 1 and query.vector is not None:
            ranked = self._sentence_rescore(query, ranked, scores, scaled, fetched)
        ranked = ranked[:n]
        t3 = time.perf_counter()
        timings["dense"] = (t1 - t0) * 1000
        timings["bm25"] = (t2 - t1) * 1000
        timings["fuse"] = (t3 - t2) * 1000
        fetched.update((c.id, c) for c in self.store.chunks([cid for cid in ranked if cid not in fetched]))
        candidates = [Candidate(fetched[cid], **scores[cid]) for cid in ranked if cid in fetched]
        self._fill_dense_scores(query, candidates[:rescore])
        return candidates

    def _fuse(self, query: Query, scores: dict[int, dict], dense, lexical) -> dict[int, tuple[float, float]] | None:
        """Set each candidate's fused score. Returns each candidate's cosine and BM25 min-max scaled over
        them (what ``sentence_rescore`` weighs), or None for reciprocal rank fusion."""
        if self.fusion == "rrf":
            for cid, s in reciprocal_rank_fusion([[c for c, _ in dense], [c for c, _ in lexical]]).items():
                scores[cid]["score"] = s
            return None
        missing = [cid for cid, s in scores.items() if "dense_score" not in s]
        for cid, cos in (self.store.dense_scores(missing, query.vector) if missing else {}).items():
            scores[cid]["dense_score"] = cos  # the exact cosine of what only BM25 found
        ids = list(scores)
        cosines = np.array([scores[c].get("dense_score", 0.0) for c in ids])
        bm25 = np.array([scores[c].get("lexical_score", 0.0) for c in ids])
        fused = fuse_scores(cosines, bm25, method=self.fusion, weight=self.fusion_weight)
        for cid, s in zip(ids, fused):
            scores[cid]["score"] = float(s)
        return dict(zip(ids, zip(scale_minmax(cosines).tolist(), scale_minmax(bm25).tolist())))

    def _sentence_rescore(self, query: Query, ranked: list[int], scores: dict[int, dict],
                          scaled: dict[int, tuple[float, float]], fetched: dict[int, StoredChunk]) -> list[int]:
        """The first ``sentence_rescore`` of ``ranked`` reordered by ``fusion.sentence_rescore`` (their
        chunks fetched into ``fetched``: the sentence vectors come with them), the rest after them."""
        fetched.update((c.id, c) for c in self.store.chunks(ranked[: self.sentence_rescore]))
        head = [cid for cid in ranked[: self.sentence_rescore] if cid in fetched]
        best = [float(np.max(fetched[cid].sentence_vectors @ query.vector)) if fetched[cid].sentences else 0.0
                for cid in head]
        rescored = sentence_rescore(np.array([scaled[cid][0] for cid in head]), np.array(best),
                                    np.array([scaled[cid][1] for cid in head]))
        for cid, s in zip(head, rescored):
            scores[cid]["score"] = float(s)
        order = sorted(range(len(head)), key=lambda i: -rescored[i])  # stable: ties keep the fused order
        return [head[i] for i in order] + ranked[self.sentence_rescore :]

    def _fill_dense_scores(self, query: Query, candidates: list[Candidate]) -> None:
        missing = [c.chunk_id for c in candidates if c.dense_score is None]
        if missing and query.vector is not None:
            found = self.store.dense_scores(missing, query.vector)
            for c in candidates:
                if c.dense_score is None:
                    c.dense_score = found.get(c.chunk_id)
