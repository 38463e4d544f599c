"""The embedded store (the default): one index folder of generations, each FAISS + SQLite.

Files in a generation folder (see ``index_dir`` for the folder's layout and atomic publishing):
- ``meta.sqlite``: documents (source, sha256, size, mtime, extracted text), sections (page / heading
  starts), chunks (text, offsets, page/heading, sentence spans and float16 sentence vectors) and
  ``chunks_fts``, an FTS5 table over stemmed terms for BM25.
- ``vectors.faiss``: the L2-normalized chunk vectors (cosine = inner product), keyed by chunk id: exact
  ``IndexIDMap2(IndexFlatIP)``, or IVF with 8-bit scalar quantization past ``vector_index.EXACT_MAX``
  chunks (chosen by ``vector_index``).

A generation is only ever modified in a private copy (``EmbeddedBuild``); readers open it read-only.
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import shutil
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from qa.config import ChunkerSettings
from qa.errors import IndexCorrupt
from qa.index import vector_index
from qa.index.index_dir import META_FILE, VECTORS_FILE, IndexDir, incompatibility
from qa.index.store import (
    REBUILD_ASKED,
    Build,
    DocumentRecord,
    Index,
    Store,
    StoredChunk,
    pack_sentence_vectors,
    stored_chunks,
)
from qa.ingest.documents import Document, Section, fallback_title
from qa.ingest.lexical import fts_query, terms

if TYPE_CHECKING:  # building needs the chunker; asking does not
    from qa.ingest.chunker import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    indexed_at REAL NOT NULL,
    text TEXT NOT NULL,
    title TEXT
);
CREATE TABLE IF NOT EXISTS sections (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    page INTEGER,
    heading TEXT,
    ocr INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sections_doc ON sections(doc_id, start);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    page INTEGER,
    heading TEXT,
    sentences TEXT NOT NULL,
    sentence_vectors BLOB NOT NULL,
    tokens INTEGER NOT NULL,
    wordpieces INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ord);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
"""

# Columns added after the first indexes were built: (table, column, declaration). A build adds them to
# its copy of an older generation; a reader of an older generation reads the default instead.
ADDED_COLUMNS = (("documents", "title", "TEXT"), ("sections", "ocr", "INTEGER NOT NULL DEFAULT 0"))


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _column_or(present: set[str], column: str, default: str, alias: str = "") -> str:
    """``column`` in a SELECT when the table has it, else its default (an index built before it)."""
    return f"{alias}{column}" if column in present else default


def all_vectors(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    """Every (vector, id) of a flat ``IndexIDMap2`` or an IVF index (IVF-SQ8 gives 8-bit copies)."""
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32), np.zeros(0, dtype=np.int64)
    if isinstance(index, faiss.IndexIDMap):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return faiss.downcast_index(index.index).reconstruct_n(0, index.ntotal), ids
    invlists = faiss.extract_index_ivf(index).invlists
    parts = []
    for lst in range(invlists.nlist):
        n = invlists.list_size(lst)
        if n:
            parts.append(faiss.rev_swig_ptr(invlists.get_ids(lst), n).copy())
    ids = np.concatenate(parts).astype(np.int64)
    return index.reconstruct_batch(ids), ids


class EmbeddedStore(Store):
    """SQLite + FAISS in one folder. ``writable=False`` opens SQLite read-only; ``load_vectors=False``
    skips reading the FAISS file, for callers that only need the metadata."""

    def __init__(self, folder: Path, writable: bool = False, load_vectors: bool = True) -> None:
        self.folder = Path(folder)
        meta = self.folder / META_FILE
        if writable:
            self.db = sqlite3.connect(meta, check_same_thread=False)
            self.db.executescript(SCHEMA)
            for table, column, decl in ADDED_COLUMNS:
                if column not in _columns(self.db, table):
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        else:
            self.db = sqlite3.connect(f"file:{meta}?mode=ro", uri=True, check_same_thread=False)
        self.db.execute("PRAGMA foreign_keys = ON")
        present = _columns(self.db, "documents")
        self._title = _column_or(present, "title", "NULL")
        self._d_title = _column_or(present, "title", "NULL", alias="d.")
        self._ocr = _column_or(_columns(self.db, "sections"), "ocr", "0")
        # sqlite3's connection sits in a reference cycle with its statement cache: without this, a replaced
        # generation's file handle stays open until the cyclic garbage collector happens to run
        weakref.finalize(self, self.db.close)
        vectors = self.folder / VECTORS_FILE
        if load_vectors and vectors.exists():
            self.vectors = vector_index.configure_search(faiss.read_index(str(vectors)))
        else:
            self.vectors = vector_index.new_vector_index(0)
        self._lock = threading.Lock()
        self._n_chunks: int | None = None

    def close(self) -> None:
        self.db.close()

    # --- writing ---------------------------------------------------------------------------------

    def remove_document(self, source: str) -> int:
        """Remove a document and its chunks from both stores; returns the number of chunks removed."""
        row = self.db.execute("SELECT id FROM documents WHERE source = ?", (source,)).fetchone()
        if row is None:
            return 0
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id = ?", (row[0],))]
        if ids:
            self.vectors.remove_ids(np.array(ids, dtype=np.int64))
            self.db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
        self.db.execute("DELETE FROM documents WHERE id = ?", (row[0],))
        return len(ids)

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
        cur = self.db.execute(
            "INSERT INTO documents (source, kind, sha256, size, mtime, indexed_at, text, title)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (doc.source, doc.kind, sha256, size, mtime, indexed_at, doc.text, doc.title or None),
        )
        doc_id = cur.lastrowid
        self.db.executemany(
            "INSERT INTO sections (doc_id, start, page, heading, ocr) VALUES (?,?,?,?,?)",
            [(doc_id, s.start, s.page, s.heading, int(s.ocr)) for s in doc.sections],
        )
        ids = []
        for ord_, (chunk, svecs) in enumerate(zip(chunks, sentence_vectors)):
            cur = self.db.execute(
                "INSERT INTO chunks (doc_id, ord, start, end, text, page, heading, sentences, sentence_vectors,"
                " tokens, wordpieces) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc_id, ord_, chunk.start, chunk.end, chunk.text, chunk.page, chunk.heading,
                    json.dumps(chunk.sentences), pack_sentence_vectors(svecs), chunk.tokens, chunk.wordpieces,
                ),
            )
            ids.append(cur.lastrowid)
            self.db.execute(
                "INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", (cur.lastrowid, " ".join(terms(chunk.text)))
            )
        if ids:
            self.vectors.add_with_ids(np.ascontiguousarray(chunk_vectors, dtype=np.float32), np.array(ids, dtype=np.int64))

    def save(self) -> None:
        """Commit SQLite and write the FAISS file (both inside this folder). An index that outgrew its
        kind (exact search past ``vector_index.EXACT_MAX`` vectors, or IVF lists far from the size) is
        rebuilt first; see ``vector_index``."""
        try:
            self.db.commit()
        except sqlite3.Error as exc:  # e.g. a full disk: reported like any other write error
            raise OSError(errno.EIO, f"cannot write {META_FILE} ({exc})") from exc
        if vector_index.needs_rebuild(self.vectors, self.vectors.ntotal, exact_max=vector_index.EXACT_MAX):
            vectors, ids = all_vectors(self.vectors)
            self.vectors = vector_index.build(vectors, ids, exact_max=vector_index.EXACT_MAX)
        try:
            faiss.write_index(self.vectors, str(self.folder / VECTORS_FILE))
        except RuntimeError as exc:  # faiss reports failed writes as RuntimeError; its message ends with the cause
            cause = re.search(r"\(([^()]*)\)\s*$", str(exc).strip())
            raise OSError(errno.EIO, f"cannot write {VECTORS_FILE} ({cause.group(1) if cause else 'write failed'})") from exc

    # --- reading ---------------------------------------------------------------------------------

    def _rows(self, sql: str, params=()) -> list[tuple]:
        """Run a query under the store's lock (one connection serves every thread)."""
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def documents(self) -> list[DocumentRecord]:
        rows = self._rows(
            f"SELECT d.id, d.source, d.kind, d.sha256, d.size, d.mtime, d.indexed_at, COUNT(c.id), {self._d_title}"
            " FROM documents d LEFT JOIN chunks c ON c.doc_id = d.id GROUP BY d.id ORDER BY d.source"
        )
        return [DocumentRecord(*r[:8], title=r[8] or "") for r in rows]

    def titles(self, sources: list[str]) -> dict[str, str]:
        sources = list(dict.fromkeys(sources))
        if not sources:
            return {}
        marks = ",".join("?" * len(sources))
        rows = self._rows(f"SELECT source, {self._title} FROM documents WHERE source IN ({marks})", sources)
        return {source: title or fallback_title(source) for source, title in rows}

    def document_text(self, source: str) -> str | None:
        rows = self._rows("SELECT text FROM documents WHERE source = ?", (source,))
        return rows[0][0] if rows else None

    def sections(self, doc_id: int) -> list[Section]:
        rows = self._rows(f"SELECT start, page, heading, {self._ocr} FROM sections WHERE doc_id = ? ORDER BY start",
                          (doc_id,))
        return [Section(a, b, c, bool(d)) for a, b, c, d in rows]

    @property
    def n_chunks(self) -> int:
        if self._n_chunks is None:
            self._n_chunks = self._rows("SELECT COUNT(*) FROM chunks")[0][0]
        return self._n_chunks

    def dense_search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.vectors.ntotal == 0 or k <= 0:
            return []
        scores, ids = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), min(k, self.vectors.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def lexical_search(self, query: list[str], k: int, within: list[int] | None = None) -> list[tuple[int, float]]:
        """BM25 over stemmed terms; scores are positive, higher is better."""
        if not query or k <= 0 or (within is not None and not within):
            return []
        scope = "" if within is None else f" AND rowid IN ({','.join(str(int(i)) for i in within)})"
        rows = self._rows(
            f"SELECT rowid, bm25(chunks_fts) AS s FROM chunks_fts WHERE chunks_fts MATCH ?{scope} ORDER BY s LIMIT ?",
            (fts_query(query), k),
        )
        return [(int(r), -float(s)) for r, s in rows]

    def describe_vectors(self) -> str:
        return vector_index.describe(self.vectors)

    def dense_scores(self, ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        return {i: float(self.vectors.reconstruct(int(i)) @ query_vector) for i in ids}

    def document_frequencies(self, query: list[str]) -> dict[str, int]:
        if not query:
            return {}
        marks = ",".join("?" * len(query))
        return dict(self._rows(f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", query))

    def chunks(self, ids: list[int]) -> list[StoredChunk]:
        """Chunks by id, in the order asked."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            "SELECT c.id, d.source, c.doc_id, c.start, c.end, c.text, c.page, c.heading, c.sentences,"
            f" c.sentence_vectors FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})",
            ids,
        )
        return stored_chunks([(*r[:8], json.loads(r[8]), r[9]) for r in rows], ids)

    def chunk_ids_of(self, source: str) -> list[int]:
        rows = self._rows(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.source = ? ORDER BY c.ord",
            (source,),
        )
        return [r[0] for r in rows]


class EmbeddedBuild(Build):
    def __init__(self, idx: IndexDir, base: Path | None, rebuilt: str | None) -> None:
        self.idx, self.base, self.rebuilt = idx, base, rebuilt
        self.indexed, self.base_chunks = {}, 0
        if base is not None:
            old = EmbeddedStore(base, load_vectors=False)
            try:
                self.indexed = {d.source: d.sha256 for d in old.documents()}
                self.base_chunks = old.n_chunks
            finally:
                old.close()
        self._tmp: Path | None = None
        self._store: EmbeddedStore | None = None

    def store(self) -> EmbeddedStore:
        if self._store is None:
            self._tmp = self.idx.start_generation(self.base)
            self._store = EmbeddedStore(self._tmp, writable=True)
        return self._store

    def commit(self, manifest: dict) -> None:
        store = self.store()
        store.save()
        store.close()
        self.idx.publish(self._tmp, manifest)
        self._tmp = self._store = None
        self.idx.sweep()

    def abort(self) -> None:
        if self._store is not None:
            self._store.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = self._store = None


class EmbeddedIndex(Index):
    """An index folder (``index_dir.IndexDir``) holding FAISS + SQLite generations."""

    kind = "embedded"

    def __init__(self, path: str | Path) -> None:
        self.dir = IndexDir(path)
        self.location = str(path)

    def exists(self) -> bool:
        return self.dir.exists()

    def describe(self) -> str:
        return self.location

    def version_name(self) -> str:
        current = self.dir.current()
        return current.name if current else "none"

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.dir.path.rglob("*") if f.is_file())

    def missing_message(self) -> str:
        return self.dir.missing_message()

    def version(self) -> Path | None:
        return self.dir.current()

    def open(self) -> tuple[EmbeddedStore, dict, Path]:
        generation, manifest = self.dir.open_generation()
        return EmbeddedStore(generation), manifest, generation

    def open_metadata(self) -> tuple[EmbeddedStore, dict]:
        generation, manifest = self.dir.open_generation()
        return EmbeddedStore(generation, load_vectors=False), manifest

    @contextlib.contextmanager
    def build(self, settings: ChunkerSettings, rebuild: bool = False):
        idx = self.dir
        with idx.lock():
            idx.sweep()
            base = None if rebuild else idx.current()
            rebuilt = REBUILD_ASKED if rebuild and idx.exists() else None
            if base is not None:
                manifest = idx.manifest(base)
                reason = incompatibility(manifest, settings)
                if reason:
                    rebuilt, base = reason, None
                else:
                    try:
                        idx.verify(base, manifest)
                    except IndexCorrupt as exc:
                        raise IndexCorrupt(f"{exc} (or delete '{idx.path}')") from exc
            build = EmbeddedBuild(idx, base, rebuilt)
            try:
                yield build
            finally:
                build.abort()  # no-op after a commit
