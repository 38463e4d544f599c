"""``Answerer``: the one way to ask the index a question (used by the CLI, the UI and the benchmarks).

question -> embed -> retrieve (dense / BM25 / hybrid) -> read (sentence, then span) -> cited answer.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from pathlib import Path


from .config import DEFAULT_INDEX_DIR, MAX_WORDPIECES
from .embedder import Embedder
from .errors import QAError
from .lexical import query_terms
from .reader import Reader, idf_weights
from .results import Answer, Citation, Passage
from .retriever import MODES, Retriever
from .span_reader import SpanReader
from .store import Index, Store, open_index
from .tokens import wordpiece_tokenizer

DEFAULT_THRESHOLD = 0.3
READERS = ("trained", "heuristic")
DEFAULT_READER = "trained"
MAX_QUESTION_CHARS = 2000


def clean_question(question: str) -> str:
    """Drop control characters and squeeze whitespace; refuse an empty question."""
    if not isinstance(question, str):
        raise QAError("the question must be text")
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in question)
    text = " ".join(text.split())
    if not text:
        raise QAError("the question is empty")
    return text


class Answerer:
    """Answers questions from an index folder. Loads the model and the index once.

    ``ask`` is safe to call from several threads. ``refresh()`` switches to a newer index generation
    (after ``qa index`` or an upload) without a restart; questions in flight finish on the old one.
    """

    def __init__(
        self,
        index_dir: str | Path | Index = DEFAULT_INDEX_DIR,
        embedder: Embedder | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        reader: str = DEFAULT_READER,
    ) -> None:
        if reader not in READERS:
            raise QAError(f"unknown reader '{reader}'; choose one of: {', '.join(READERS)}")
        self.index = open_index(index_dir)
        self.embedder = embedder or Embedder()
        self.reader_name = reader
        self.reader = Reader(span_reader=SpanReader() if reader == "trained" else None)
        self.threshold = threshold
        self._swap = threading.Lock()
        self.version: object | None = None
        self.store: Store | None = None
        self.refresh()

    def refresh(self) -> bool:
        """Open the live index if a build committed since; returns True when it did."""
        current = self.index.version()
        if current is not None and current == self.version:
            return False
        store, manifest, version = self.index.open()
        with self._swap:
            self.version, self.store, self.manifest = version, store, manifest
            self.retriever = Retriever(store)
        return True

    def warm_up(self) -> None:
        """Load the models now rather than at the first question."""
        self.embedder.encode_queries(["warm up"])
        if self.reader.span_reader is not None:
            self.reader.span_reader.spans("warm up?", ["Warm up."])

    def document_text(self, source: str) -> str | None:
        return self.store.document_text(source)

    def _check(self, question: str, k: int, mode: str) -> tuple[str, str | None]:
        if mode not in MODES:
            raise QAError(f"unknown mode '{mode}'; choose one of: {', '.join(MODES)}")
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

    def read(self, question: str, k: int = 5, mode: str = "hybrid", n_passages: int | None = None):
        """Retrieve and read a cleaned question: (store, hits, chunks, reading, timings in ms)."""
        with self._swap:
            store, retriever = self.store, self.retriever
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query = query_terms(question)
        qvec = self.embedder.encode_queries([question])[0]
        t1 = time.perf_counter()
        hits = retriever.run(qvec if mode != "bm25" else None, query, max(k, n_passages or 0), mode, timings)
        t2 = time.perf_counter()
        chunks = store.chunks([h.chunk_id for h in hits])
        if len(chunks) < len(hits):  # removed by a build that committed meanwhile (PostgreSQL reads live)
            found = {c.id for c in chunks}
            hits = [h for h in hits if h.chunk_id in found]
        missing = [h.chunk_id for h in hits[:k] if h.dense_score is None]
        if missing:
            scores = store.dense_scores(missing, qvec)
            for hit in hits[:k]:
                if hit.dense_score is None:
                    hit.dense_score = scores.get(hit.chunk_id)
        idf = idf_weights(query, store.document_frequencies(query), store.n_chunks)
        reading = self.reader.run(question, qvec, query, idf, chunks[:k], hits[:k])
        t3 = time.perf_counter()
        timings.update(embed=(t1 - t0) * 1000, search=(t2 - t1) * 1000, read=(t3 - t2) * 1000, total=(t3 - t0) * 1000)
        return store, hits, chunks, reading, timings

    def ask(self, question: str, k: int = 5, mode: str = "hybrid", n_passages: int | None = None) -> Answer:
        """Answer from the ``k`` best passages; ``n_passages`` (>= k) lists more of the ranking in the result."""
        question, notice = self._check(question, k, mode)
        store, hits, chunks, reading, timings = self.read(question, k, mode, n_passages)
        passages = []
        for chunk, hit in zip(chunks, hits):
            section = store.section_at(chunk.doc_id, chunk.start)
            passages.append(
                Passage(chunk.source, section.page, section.heading, chunk.start, chunk.end, chunk.text,
                        hit.score, hit.dense_score, hit.lexical_score)
            )
        answer = Answer(question, None, round(reading.confidence, 4), [], passages, mode, reading.kind, notice, timings)
        if reading.sentence is None or reading.confidence < self.threshold:
            return answer

        best = reading.sentence
        text = best.chunk.text[reading.start - best.chunk.start : reading.end - best.chunk.start]
        answer.answer = text
        answer.citations.append(self._cite(store, best, reading.start, reading.end))
        if reading.start != best.start or reading.end != best.end:  # a short span: other places saying it
            needle = text.lower()
            for other in reading.ranked[1:]:
                if len(answer.citations) >= 4 or other.probability < self.threshold:
                    break
                sentence = other.chunk.text[other.start - other.chunk.start : other.end - other.chunk.start]
                pos = sentence.lower().find(needle)
                if pos >= 0 and all(c.source != other.chunk.source or c.sentence_start != other.start
                                    for c in answer.citations):
                    answer.citations.append(self._cite(store, other, other.start + pos, other.start + pos + len(text)))
        return answer

    @staticmethod
    def _cite(store: Store, scored, start: int, end: int) -> Citation:
        chunk = scored.chunk
        section = store.section_at(chunk.doc_id, start)
        rel = lambda a, b: chunk.text[a - chunk.start : b - chunk.start]  # noqa: E731
        return Citation(chunk.source, section.page, section.heading, start, end, rel(start, end),
                        rel(scored.start, scored.end), scored.start, scored.end)


