"""``Answerer``: the one way to ask the index a question (used by the CLI, the UI and the benchmarks).

question -> Query (embed) -> [Candidate] (retrieve) -> Reading (read) -> Answer with citations.
"""

from __future__ import annotations

import fnmatch
import math
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.answer.reader import Reader
from qa.answer.reranker import Reranker
from qa.answer.results import Answer, Citation, Passage
from qa.answer.retriever import Retriever
from qa.answer.sentence_ranker import idf_weights
from qa.answer.span_model import SpanReader
from qa.answer.types import Candidate, Query, Reading, SentenceScore
from qa.config import MAX_WORDPIECES
from qa.errors import QAError
from qa.index.embedder import Embedder
from qa.index.store import Index, Store, open_index
from qa.ingest.lexical import query_terms
from qa.ingest.tokens import wordpiece_tokenizer
from qa.settings import Settings, check_mode

MAX_QUESTION_CHARS = 2000
MAX_CITATIONS = 4


def clean_question(question: str) -> str:
    """Drop control characters and squeeze whitespace; refuse an empty question."""
    if not isinstance(question, str):
        raise QAError("the question must be text")
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in question)
    text = " ".join(text.split())
    if not text:
        raise QAError("the question is empty")
    return text


def order_by_reading(candidates: list[Candidate], reading: Reading) -> list[Candidate]:
    """The candidates in the order reading puts them: the one the reader quotes its best span from
    first, then the others that were read by their best sentence's score (``sentence_ranker``), then
    those not read in the retriever's (or reranker's) order. Free: nothing more is read or scored.

    The span reader reads question and passage together, and the sentence ranker sees each sentence's
    own vector and words: both say more about which passage answers than the retrievers' scores of a
    whole chunk (recall@1 on SQuAD v1.1 dev 0.795 -> 0.870 for the first, recall@5 on product reviews
    0.522 -> 0.528 and PolicyQA 0.498 -> 0.508 for the rest; docs/BENCHMARKS.md, "The answer's passage
    first"). Ties keep the retriever's order; with no sentence ranked the order stays as retrieved."""
    best: dict[int, float] = {}
    for s in reading.ranked:
        key = id(s.candidate)
        best[key] = max(best.get(key, -math.inf), s.score)
    holder = reading.sentence.candidate if reading.sentence is not None else None
    first = [holder] if any(c is holder for c in candidates) else []
    # a stable sort of the retriever's order: ties keep it
    read = sorted((c for c in candidates if id(c) in best and c is not holder), key=lambda c: -best[id(c)])
    return [*first, *read, *(c for c in candidates if id(c) not in best and c is not holder)]


def resolve_scope(store: Store, patterns: Sequence[str]) -> tuple[list[str], list[int]]:
    """The documents a scope names and their chunk ids. Each pattern is a document's source (its path in
    the documents folder), a glob over sources (``policies/*.html``) or over file names (``*.pdf``)."""
    sources = [d.source for d in store.documents()]
    chosen: dict[str, None] = {}
    for pattern in patterns:
        matches = ([s for s in sources if s == pattern]
                   or [s for s in sources if fnmatch.fnmatchcase(s, pattern)]
                   or [s for s in sources if fnmatch.fnmatchcase(s.rsplit("/", 1)[-1], pattern)])
        if not matches:
            raise QAError(f"no indexed document matches '{pattern}'")
        chosen.update(dict.fromkeys(matches))
    return list(chosen), [i for s in chosen for i in store.chunk_ids_of(s)]


@dataclass
class Trace:
    """Everything one question went through: the store it was read from, the candidates retrieved
    (best first), what the reader made of the first ``k`` of them, and the milliseconds per stage."""

    store: Store
    query: Query
    candidates: list[Candidate]
    reading: Reading
    timings: dict[str, float]


class Answerer:
    """Answers questions from an index folder. Loads the model and the index once.

    ``ask`` is safe to call from several threads. ``refresh()`` switches to a newer index generation
    (after ``qa index`` or an upload) without a restart; questions in flight finish on the old one.
    """

    def __init__(
        self,
        index: str | Path | Index | None = None,
        *,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
        reader: str | None = None,
        threshold: float | None = None,
    ) -> None:
        """``index``: a folder, a ``postgresql://`` URL or an ``Index`` (default: ``settings.location``).
        ``settings`` (default ``Settings.from_env()``) gives the defaults of ``ask``; ``reader`` and
        ``threshold`` override it."""
        self.settings = (settings or Settings.from_env()).with_(reader=reader, threshold=threshold)
        self.index = open_index(self.settings.location if index is None else index)
        self.embedder = embedder or Embedder(threads=self.settings.threads, backend=self.settings.backend)
        self.reader_name = self.settings.reader
        span_reader = SpanReader(self.settings.backend, self.settings.threads) if self.reader_name == "trained" else None
        self.reader = Reader(span_reader=span_reader)
        # the heuristic reader has no span reader to rerank with
        self.reranker = Reranker(span_reader, depth=self.settings.rerank) if span_reader and self.settings.rerank else None
        if self.index.exists():  # both models load in the background while the index opens
            self.embedder.prefetch()
            if span_reader is not None:
                span_reader.prefetch()
        self._swap = threading.Lock()
        self.version: object | None = None
        self.store: Store | None = None
        self.refresh()

    @property
    def threshold(self) -> float:
        return self.settings.threshold

    def refresh(self) -> bool:
        """Open the live index if a build committed since; returns True when it did."""
        current = self.index.version()
        if current is not None and current == self.version:
            return False
        store, manifest, version = self.index.open()
        with self._swap:
            self.version, self.store, self.manifest = version, store, manifest
            self.retriever = Retriever(store, depth=self.settings.depth, fusion=self.settings.fusion,
                                       fusion_weight=self.settings.fusion_weight,
                                       sentence_rescore=self.settings.sentence_rescore)
        return True

    def warm_up(self) -> None:
        """Load the models now rather than at the first question."""
        self.embedder.encode_queries(["warm up"])
        if self.reader.span_reader is not None:
            self.reader.span_reader.spans("warm up?", ["Warm up."])

    def document_text(self, source: str) -> str | None:
        return self.store.document_text(source)

    def _check(self, question: str, k: int, mode: str) -> tuple[str, str | None]:
        check_mode(mode)
        if k < 1:
            raise QAError("k must be at least 1")
        question = clean_question(question)
        notice = None
        if len(question) > MAX_QUESTION_CHARS:
            question = question[:MAX_QUESTION_CHARS]
            notice = f"the question was cut to its first {MAX_QUESTION_CHARS} characters"
        if len(wordpiece_tokenizer().encode(question, add_special_tokens=False).ids) > MAX_WORDPIECES:
            notice = notice or f"only the first {MAX_WORDPIECES} word pieces of the question were embedded"
        return question, notice

    def retrieve(self, question: str, *, n: int, mode: str, rescore: int = 0, scope: Sequence[str] | None = None,
                 timings: dict[str, float] | None = None) -> tuple[Store, Query, list[Candidate]]:
        """The ``n`` best candidates for a cleaned question (reranked by the span reader where
        ``settings.rerank`` says so), and the store and query they came from; only from the documents
        ``scope`` names, when given (see ``resolve_scope``). Adds milliseconds per stage to ``timings``."""
        with self._swap:
            store, retriever = self.store, self.retriever
        within = resolve_scope(store, scope)[1] if scope else None
        timings = {} if timings is None else timings
        t0 = time.perf_counter()
        terms = query_terms(question)
        query = Query(question, terms, self.embedder.encode_queries([question])[0])
        t1 = time.perf_counter()
        depth = self.reranker.depth if self.reranker is not None else 0
        candidates = retriever.run(query, n=max(n, depth), mode=mode, rescore=max(rescore, depth), within=within,
                                   timings=timings)
        t2 = time.perf_counter()
        timings.update(embed=(t1 - t0) * 1000, search=(t2 - t1) * 1000)
        if self.reranker is not None:
            candidates = self.reranker.run(question, candidates)
            timings["rerank"] = (time.perf_counter() - t2) * 1000
        return store, query, candidates[:n]

    def read(self, question: str, *, k: int, mode: str, n_passages: int | None = None,
             scope: Sequence[str] | None = None) -> Trace:
        """Retrieve and read a cleaned question: the ``max(k, n_passages)`` best candidates, the first
        ``k`` read; only from the documents ``scope`` names, when given (see ``resolve_scope``). The
        trace's candidates are in the order reading puts them (``order_by_reading``)."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        store, query, candidates = self.retrieve(question, n=max(k, n_passages or 0), mode=mode, rescore=k,
                                                 scope=scope, timings=timings)
        t1 = time.perf_counter()
        query.idf = idf_weights(query.terms, store.document_frequencies(query.terms), store.n_chunks)
        reading = self.reader.run(query, candidates[:k])
        candidates = order_by_reading(candidates, reading)
        t2 = time.perf_counter()
        timings.update(read=(t2 - t1) * 1000, total=(t2 - t0) * 1000)
        return Trace(store, query, candidates, reading, timings)

    def ask(self, question: str, k: int | None = None, mode: str | None = None,
            n_passages: int | None = None, scope: Sequence[str] | None = None) -> Answer:
        """Answer from the ``k`` best passages (default ``settings.k``); ``n_passages`` (>= k) lists more
        of the ranking in the result. ``scope``: ask only these documents (names or globs)."""
        k = self.settings.k if k is None else k
        mode = mode or self.settings.mode
        question, notice = self._check(question, k, mode)
        trace = self.read(question, k=k, mode=mode, n_passages=n_passages, scope=scope)
        store, reading = trace.store, trace.reading
        titles = store.titles([c.chunk.source for c in trace.candidates])
        passages = [self._passage(store, c, titles) for c in trace.candidates]
        answer = Answer(question, None, round(reading.confidence, 4), [], passages, mode, reading.kind, notice,
                        trace.timings)
        answer.scope = list(scope) if scope else None
        if reading.sentence is None or reading.confidence < self.threshold:
            return answer
        answer.answer = reading.text
        answer.citations = self._citations(store, reading, titles)
        answer.alternatives = self._alternatives(store, reading, titles)
        return answer

    def _alternatives(self, store: Store, reading: Reading, titles: dict[str, str]) -> list[Citation]:
        """The reader's runner-up spans that say something other than the answer, cited."""
        seen, out = {reading.text.strip().lower()}, []
        for pick in reading.alternatives:
            cite = self._cite(store, pick.sentence, pick.start, pick.end, titles)
            if cite.text.strip() and cite.text.strip().lower() not in seen:
                seen.add(cite.text.strip().lower())
                out.append(cite)
        return out

    def _citations(self, store: Store, reading: Reading, titles: dict[str, str]) -> list[Citation]:
        """The answer's own place first; for a short span, up to three other sentences saying it too."""
        best, text = reading.sentence, reading.text
        citations = [self._cite(store, best, reading.start, reading.end, titles)]
        if reading.start == best.start and reading.end == best.end:
            return citations
        needle = text.lower()
        for other in reading.ranked[1:]:
            if len(citations) >= MAX_CITATIONS or other.probability < self.threshold:
                break
            pos = other.text.lower().find(needle)
            if pos >= 0 and all(c.source != other.chunk.source or c.sentence_start != other.start for c in citations):
                citations.append(self._cite(store, other, other.start + pos, other.start + pos + len(text), titles))
        return citations

    @staticmethod
    def _passage(store: Store, c: Candidate, titles: dict[str, str]) -> Passage:
        chunk = c.chunk
        section = store.section_at(chunk.doc_id, chunk.start)
        return Passage(chunk.source, section.page, section.heading, chunk.start, chunk.end, chunk.text,
                       c.score, c.dense_score, c.lexical_score, title=titles.get(chunk.source, ""), ocr=section.ocr,
                       ocr_confidence=section.confidence)

    @staticmethod
    def _cite(store: Store, scored: SentenceScore, start: int, end: int, titles: dict[str, str]) -> Citation:
        chunk = scored.chunk
        section = store.section_at(chunk.doc_id, start)
        rel = lambda a, b: chunk.text[a - chunk.start : b - chunk.start]
        return Citation(chunk.source, section.page, section.heading, start, end, rel(start, end),
                        scored.text, scored.start, scored.end, title=titles.get(chunk.source, ""), ocr=section.ocr,
                        ocr_confidence=section.confidence)
