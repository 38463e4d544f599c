"""The store boundary: what the engine needs from wherever chunks and vectors live.

Two implementations:

- ``store_embedded``: the default. One folder of generations (``index_dir``), each a list of segments
  (SQLite text, FAISS vectors, sentence vectors) and a tantivy BM25 index. Nothing to install or run.
- ``store_postgres``: PostgreSQL with pgvector (HNSW, cosine) and a BM25 over ``tsvector`` columns,
  for corpora that outgrow one machine or several servers sharing one index.

``open_index(location)`` picks one: a ``postgresql://`` URL gives PostgreSQL, anything else is a
folder. An ``Index`` is *where* an index lives (exists? open it for reading, run a build under its
lock); a ``Store`` is one consistent view of its contents (search, fetch, and, inside a build, change).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.config import EMBED_DIM, ChunkerSettings

if TYPE_CHECKING:  # the chunker (and tiktoken) is needed to build an index, never to ask
    from qa.ingest.chunker import Chunk
from qa.ingest.documents import Document, Section, fallback_title, locate

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
REBUILD_ASKED = "a rebuild was asked for"  # Build.rebuilt when the caller asked to start over


@dataclass
class DocumentRecord:
    id: int
    source: str
    kind: str
    sha256: str
    size: int
    mtime: float
    indexed_at: float
    chunks: int = 0
    title: str = ""  # the document's title for people (the file name when it gave none)

    def __post_init__(self) -> None:
        self.title = self.title or fallback_title(self.source)


@dataclass
class StoredChunk:
    id: int
    source: str
    doc_id: int
    start: int
    end: int
    text: str
    page: int | None
    heading: str | None
    sentences: list[tuple[int, int]]
    sentence_vectors: np.ndarray  # [len(sentences), 384] float32, L2-normalized


def pack_sentence_vectors(vectors: np.ndarray) -> bytes:
    """Sentence vectors as stored by both stores: float16, row after row."""
    return np.asarray(vectors, dtype=np.float16).tobytes()


def stored_chunks(rows, ids: list[int]) -> list[StoredChunk]:
    """Rows of (id, source, doc_id, start, end, text, page, heading, sentence spans, packed sentence
    vectors) as chunks, in the order of ``ids`` (ids without a row are left out)."""
    by_id = {}
    for r in rows:
        spans = [tuple(s) for s in r[8]]
        svecs = np.frombuffer(r[9], dtype=np.float16).astype(np.float32).reshape(len(spans), EMBED_DIM)
        by_id[r[0]] = StoredChunk(*r[:8], spans, svecs)
    return [by_id[i] for i in ids if i in by_id]


class Store(ABC):
    """One consistent view of an index. Reads are safe from several threads; writes happen only on the
    store a ``Build`` hands out, and become visible when the build commits."""

    # --- reading ---------------------------------------------------------------------------------

    @abstractmethod
    def documents(self) -> list[DocumentRecord]:
        """Every document with its chunk count, ordered by source."""

    @abstractmethod
    def document_text(self, source: str) -> str | None:
        """The extracted text a document's offsets refer to."""

    @abstractmethod
    def titles(self, sources: list[str]) -> dict[str, str]:
        """The title of each of these documents (the file name for a document indexed without one);
        unknown sources are left out."""

    @abstractmethod
    def sections(self, doc_id: int) -> list[Section]:
        """Page / heading starts of a document, in order."""

    def section_at(self, doc_id: int, offset: int) -> Section:
        return locate(self.sections(doc_id), offset)

    @property
    @abstractmethod
    def n_chunks(self) -> int: ...

    @abstractmethod
    def dense_search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the ``k`` nearest chunks, best first."""

    @abstractmethod
    def lexical_search(self, query: list[str], k: int, within: list[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the ``k`` best chunks for stemmed query terms, best first; only
        among the chunk ids ``within`` when given (the statistics stay those of the whole index)."""

    @abstractmethod
    def dense_scores(self, ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        """Cosine similarity of the question to each of these chunks."""

    @abstractmethod
    def document_frequencies(self, query: list[str]) -> dict[str, int]:
        """How many chunks contain each term (terms in no chunk may be left out)."""

    @abstractmethod
    def chunks(self, ids: list[int]) -> list[StoredChunk]:
        """Chunks by id, in the order asked (unknown ids are left out)."""

    @abstractmethod
    def chunk_ids_of(self, source: str) -> list[int]:
        """A document's chunk ids in reading order."""

    def describe_vectors(self) -> str:
        """What serves ``dense_search``, for people: kind, size and search settings."""
        return f"{type(self).__name__}, {self.n_chunks} vectors"

    def close(self) -> None:
        pass

    # --- writing (only inside a build) -----------------------------------------------------------

    def remove_document(self, source: str) -> int:
        """Remove a document and its chunks; returns the number of chunks removed."""
        raise NotImplementedError("this store is read-only")

    def add_document(
        self,
        doc: Document,
        *,
        sha256: str,
        size: int,
        mtime: float,
        indexed_at: float,
        chunks: list[Chunk],
        chunk_vectors: np.ndarray,
        sentence_vectors: list[np.ndarray],
    ) -> None:
        raise NotImplementedError("this store is read-only")


class Build(ABC):
    """One run of ``qa index`` against an index, under its lock. Nothing it changes is visible to
    readers until ``commit``; ``abort`` (or a crash) leaves the previous state."""

    rebuilt: str | None = None  # why the whole index is being rebuilt, if it is
    indexed: dict[str, str]  # source -> sha256 of what the index holds now
    base_chunks: int = 0

    @abstractmethod
    def store(self) -> Store:
        """The store to change (made on first use: a build with nothing to do never makes one)."""

    @abstractmethod
    def commit(self, manifest: dict) -> None:
        """Make the changes visible atomically, with ``manifest`` (settings, corpus, counts)."""

    @abstractmethod
    def abort(self) -> None:
        """Drop the changes."""


class Index(ABC):
    """Where an index lives."""

    location: str
    kind: str  # "embedded" or "postgresql"

    @abstractmethod
    def exists(self) -> bool: ...

    @abstractmethod
    def missing_message(self) -> str: ...

    @abstractmethod
    def version(self) -> object | None:
        """A token that changes whenever a build commits (None: no index yet). Cheap to call."""

    @abstractmethod
    def open(self) -> tuple[Store, dict, object]:
        """A read-only store of the live index, its manifest and its version; checked for compatibility
        and integrity."""

    @abstractmethod
    def open_metadata(self) -> tuple[Store, dict]:
        """Like ``open`` but only for listing documents and counts (may skip loading vectors)."""

    @abstractmethod
    @contextlib.contextmanager
    def build(self, settings: ChunkerSettings, rebuild: bool = False) -> Iterator[Build]:
        """Hold the build lock (a second build waits) and yield a ``Build`` of the current state."""

    @abstractmethod
    def describe(self) -> str:
        """The location, safe to print."""

    @abstractmethod
    def version_name(self) -> str:
        """The live version for people (generation folder, or commit counter)."""

    @abstractmethod
    def disk_bytes(self) -> int:
        """Space the index takes."""

    def verify(self, full: bool = True) -> int | None:
        """Check the live index's files against their recorded checksums (``full``: every file, however
        big); the number of files checked, or None where there are no files to check."""
        return None

    def close(self) -> None:
        pass


def is_postgres_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def open_index(location: str | Path | Index) -> Index:
    """The index at ``location``: a ``postgresql://`` URL or a folder."""
    if isinstance(location, Index):
        return location
    if is_postgres_url(location):
        from qa.index.store_postgres import PostgresIndex

        return PostgresIndex(str(location))
    from qa.index.store_embedded import EmbeddedIndex

    return EmbeddedIndex(location)

