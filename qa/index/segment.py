"""One segment of the embedded store: the documents one build added (or a merge gathered), in three files
that never change once published.

- ``seg-NNNNNN.sqlite``: documents (source, sha256, size, mtime, extracted text, title), sections (page /
  heading starts, OCR marks) and chunks (text, offsets, page / heading, sentence spans, and the row of
  their first sentence vector). Text only: no vectors.
- ``seg-NNNNNN.faiss``: the L2-normalized chunk vectors (cosine = inner product), keyed by chunk id:
  exact ``IndexIDMap2(IndexFlatIP)``, or IVF with 8-bit scalar quantization past
  ``vector_index.EXACT_MAX`` chunks (chosen by ``vector_index``).
- ``seg-NNNNNN.sentences``: the sentence vectors, float16, 384 per row, one row per sentence in chunk
  order, read through a memory map.

Document and chunk ids are unique across the segments of an index (the store hands them out), and a
segment holds one contiguous range of chunk ids. A later generation removes a document of an older
segment by listing its id as deleted (``deleted_docs``) instead of rewriting the segment; reads skip
deleted documents and their chunks.
"""

from __future__ import annotations

import errno
import json
import re
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from qa.config import EMBED_DIM
from qa.index import vector_index
from qa.index.store import DocumentRecord, StoredChunk
from qa.ingest.documents import Document, Section, fallback_title

if TYPE_CHECKING:  # building needs the chunker; asking does not
    from qa.ingest.chunker import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
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
    doc_id INTEGER NOT NULL,
    start INTEGER NOT NULL,
    page INTEGER,
    heading TEXT,
    ocr INTEGER NOT NULL DEFAULT 0,
    confidence REAL
);
CREATE INDEX IF NOT EXISTS sections_doc ON sections(doc_id, start);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    page INTEGER,
    heading TEXT,
    sentences TEXT NOT NULL,
    sentence_row INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    wordpieces INTEGER NOT NULL,
    n_terms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ord);
"""
SENTENCE_DTYPE = np.dtype("<f2")
ROW_BYTES = EMBED_DIM * SENTENCE_DTYPE.itemsize


def file_names(name: str) -> tuple[str, str, str]:
    """The SQLite, FAISS and sentence-vector file names of segment ``name``."""
    return f"{name}.sqlite", f"{name}.faiss", f"{name}.sentences"


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


class Segment:
    """One segment, read-only (published) or, for the one a build writes, writable."""

    def __init__(self, folder: Path, name: str, *, writable: bool = False, load_vectors: bool = True,
                 deleted_docs: list[int] | None = None) -> None:
        self.folder, self.name, self.writable = Path(folder), name, writable
        sqlite_name, faiss_name, sentences_name = file_names(name)
        self.sqlite_path = self.folder / sqlite_name
        self.faiss_path = self.folder / faiss_name
        self.sentences_path = self.folder / sentences_name
        if writable:
            self.db = sqlite3.connect(self.sqlite_path, check_same_thread=False)
            self.db.executescript(SCHEMA)
            self._sentence_file = open(self.sentences_path, "ab")  # noqa: SIM115 (closed by close())
            self._sentence_rows = self.sentences_path.stat().st_size // ROW_BYTES
        else:
            self.db = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, check_same_thread=False)
            self._sentence_file = None
        # sqlite3's connection sits in a reference cycle with its statement cache: without this, a replaced
        # generation's file handle stays open until the cyclic garbage collector happens to run
        weakref.finalize(self, self.db.close)
        self._lock = threading.Lock()
        self._vectors: faiss.Index | None = None
        if load_vectors or writable:
            self._vectors = self._read_vectors()
        self._sentence_reader = None  # the sentence vectors' file, opened at the first read
        # two subqueries: SQLite answers each from the primary key's ends (MIN and MAX together scan it)
        self.first_chunk, self.last_chunk = self._rows("SELECT (SELECT MIN(id) FROM chunks), (SELECT MAX(id) FROM chunks)")[0]
        self.set_deleted(deleted_docs or [])

    def _read_vectors(self) -> faiss.Index:
        if self.faiss_path.exists():
            return vector_index.configure_search(faiss.read_index(str(self.faiss_path)))
        return vector_index.new_vector_index(0)

    @property
    def vectors(self) -> faiss.Index:
        """The chunk vectors (read on first use when the segment was opened without them)."""
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    self._vectors = self._read_vectors()
        return self._vectors

    @vectors.setter
    def vectors(self, index: faiss.Index) -> None:
        self._vectors = index

    def close(self) -> None:
        if self._sentence_file is not None:
            self._sentence_file.close()
            self._sentence_file = None
        if self._sentence_reader is not None:
            self._sentence_reader.close()
            self._sentence_reader = None
        self.db.close()

    # --- deleted documents ---------------------------------------------------------------------------

    def set_deleted(self, doc_ids) -> None:
        """Documents of this segment that later generations removed: reads skip them and their chunks."""
        self.deleted_docs = {int(i) for i in doc_ids}
        if self.deleted_docs:
            marks = ",".join(str(i) for i in sorted(self.deleted_docs))
            rows = self._rows(f"SELECT id FROM chunks WHERE doc_id IN ({marks})")
            self.deleted_chunks = np.array(sorted(r[0] for r in rows), dtype=np.int64)
        else:
            self.deleted_chunks = np.zeros(0, dtype=np.int64)
        self._deleted_chunk_set = set(self.deleted_chunks.tolist())
        self._params = None
        self._n_chunks: int | None = None

    def _search_params(self):
        """FAISS search parameters that skip deleted chunks (None when there are none)."""
        if not len(self.deleted_chunks):
            return None
        if self._params is None:
            batch = faiss.IDSelectorBatch(self.deleted_chunks)
            selector = faiss.IDSelectorNot(batch)
            ivf = vector_index.ivf_of(self.vectors)
            if ivf is not None:
                params = faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe)
            else:
                params = faiss.SearchParameters(sel=selector)
            self._params = (params, selector, batch)  # the selectors must outlive the parameters
        return self._params[0]

    # --- reading -------------------------------------------------------------------------------------

    def _rows(self, sql: str, params=()) -> list[tuple]:
        """Run a query under the segment's lock (one connection serves every thread)."""
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def holds_chunk(self, chunk_id: int) -> bool:
        return self.first_chunk is not None and self.first_chunk <= chunk_id <= self.last_chunk

    def documents(self) -> list[DocumentRecord]:
        rows = self._rows(
            "SELECT d.id, d.source, d.kind, d.sha256, d.size, d.mtime, d.indexed_at,"
            " (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id), d.title FROM documents d"
        )
        return [DocumentRecord(*r[:8], title=r[8] or "") for r in rows if r[0] not in self.deleted_docs]

    def indexed(self) -> dict[str, str]:
        """source -> sha256 of the live documents (no chunk counts: cheap)."""
        rows = self._rows("SELECT id, source, sha256 FROM documents")
        return {source: sha for i, source, sha in rows if i not in self.deleted_docs}

    def find(self, source: str) -> int | None:
        """The id of the live document ``source`` in this segment, if any."""
        rows = self._rows("SELECT id FROM documents WHERE source = ?", (source,))
        return rows[0][0] if rows and rows[0][0] not in self.deleted_docs else None

    def titles(self, sources: list[str]) -> dict[str, str]:
        marks = ",".join("?" * len(sources))
        rows = self._rows(f"SELECT id, source, title FROM documents WHERE source IN ({marks})", sources)
        return {source: title or fallback_title(source) for i, source, title in rows if i not in self.deleted_docs}

    def document_text(self, source: str) -> str | None:
        rows = self._rows("SELECT id, text FROM documents WHERE source = ?", (source,))
        return rows[0][1] if rows and rows[0][0] not in self.deleted_docs else None

    def sections(self, doc_id: int) -> list[Section]:
        rows = self._rows("SELECT start, page, heading, ocr, confidence FROM sections WHERE doc_id = ? ORDER BY start",
                          (doc_id,))
        return [Section(a, b, c, bool(d), confidence=e) for a, b, c, d, e in rows]

    @property
    def n_chunks(self) -> int:
        if self._n_chunks is None:
            self._n_chunks = self._rows("SELECT COUNT(*) FROM chunks")[0][0] - len(self.deleted_chunks)
        return self._n_chunks

    def dense_search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.vectors.ntotal == 0 or k <= 0:
            return []
        q = query_vector.reshape(1, -1).astype(np.float32)
        scores, ids = self.vectors.search(q, min(k, self.vectors.ntotal), params=self._search_params())
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def dense_scores(self, ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        return {i: float(self.vectors.reconstruct(int(i)) @ query_vector) for i in ids
                if self.holds_chunk(i) and i not in self._deleted_chunk_set}

    def _sentence_vectors(self, row: int, n: int) -> np.ndarray:
        if self._sentence_file is not None:  # being written: read what was flushed
            self._sentence_file.flush()
            data = np.fromfile(self.sentences_path, dtype=SENTENCE_DTYPE, count=n * EMBED_DIM, offset=row * ROW_BYTES)
            return data.reshape(n, EMBED_DIM).astype(np.float32)
        # read, not memory-mapped: a question reads the sentences of ~30 chunks, and mapped pages (with the
        # kernel's fault-around) would count in the answering process's memory, page after page
        with self._lock:
            if self._sentence_reader is None:
                self._sentence_reader = open(self.sentences_path, "rb")  # noqa: SIM115 (closed by close())
                weakref.finalize(self, self._sentence_reader.close)
            self._sentence_reader.seek(row * ROW_BYTES)
            data = self._sentence_reader.read(n * ROW_BYTES)
        if len(data) != n * ROW_BYTES:
            raise OSError(errno.EIO, f"{self.sentences_path.name} is shorter than its chunks say (damaged)")
        return np.frombuffer(data, dtype=SENTENCE_DTYPE).reshape(n, EMBED_DIM).astype(np.float32)

    def chunks(self, ids: list[int]) -> list[StoredChunk]:
        ids = [i for i in ids if self.holds_chunk(i) and i not in self._deleted_chunk_set]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            "SELECT c.id, d.source, c.doc_id, c.start, c.end, c.text, c.page, c.heading, c.sentences,"
            f" c.sentence_row FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})",
            ids,
        )
        out = []
        for r in rows:
            spans = [tuple(s) for s in json.loads(r[8])]
            out.append(StoredChunk(*r[:8], spans, self._sentence_vectors(r[9], len(spans))))
        return out

    def terms_of(self, doc_id: int) -> int:
        """How many terms (BM25's document length) the chunks of a document hold in all."""
        return self._rows("SELECT COALESCE(SUM(n_terms), 0) FROM chunks WHERE doc_id = ?", (doc_id,))[0][0]

    def lengths(self, ids: list[int]) -> dict[int, tuple[str, int]]:
        """(text, number of terms) of live chunks among ``ids``."""
        ids = [i for i in ids if self.holds_chunk(i) and i not in self._deleted_chunk_set]
        if not ids:
            return {}
        rows = self._rows(f"SELECT id, text, n_terms FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {i: (text, n) for i, text, n in rows}

    def chunk_ids_of(self, doc_id: int) -> list[int]:
        return [r[0] for r in self._rows("SELECT id FROM chunks WHERE doc_id = ? ORDER BY ord", (doc_id,))]

    # --- writing (the build's own segment) -------------------------------------------------------------

    def add_document(self, doc: Document, *, doc_id: int, chunk_ids: list[int], sha256: str, size: int,
                     mtime: float, indexed_at: float, chunks: list[Chunk], chunk_vectors: np.ndarray,
                     sentence_vectors: list[np.ndarray], n_terms: list[int]) -> None:
        self.db.execute(
            "INSERT INTO documents (id, source, kind, sha256, size, mtime, indexed_at, text, title)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (doc_id, doc.source, doc.kind, sha256, size, mtime, indexed_at, doc.text, doc.title or None),
        )
        self.db.executemany(
            "INSERT INTO sections (doc_id, start, page, heading, ocr, confidence) VALUES (?,?,?,?,?,?)",
            [(doc_id, s.start, s.page, s.heading, int(s.ocr), s.confidence) for s in doc.sections],
        )
        rows = []
        for ord_, (chunk_id, chunk, svecs, length) in enumerate(zip(chunk_ids, chunks, sentence_vectors, n_terms)):
            svecs = np.asarray(svecs, dtype=SENTENCE_DTYPE).reshape(-1, EMBED_DIM)
            self._sentence_file.write(svecs.tobytes())
            rows.append((chunk_id, doc_id, ord_, chunk.start, chunk.end, chunk.text, chunk.page, chunk.heading,
                         json.dumps(chunk.sentences), self._sentence_rows, chunk.tokens, chunk.wordpieces, length))
            self._sentence_rows += len(svecs)
        self.db.executemany(
            "INSERT INTO chunks (id, doc_id, ord, start, end, text, page, heading, sentences, sentence_row, tokens,"
            " wordpieces, n_terms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        if chunk_ids:
            self.vectors.add_with_ids(np.ascontiguousarray(chunk_vectors, dtype=np.float32),
                                      np.array(chunk_ids, dtype=np.int64))
            self._note_chunks(chunk_ids)

    def _note_chunks(self, chunk_ids) -> None:
        lo, hi = min(chunk_ids), max(chunk_ids)
        self.first_chunk = lo if self.first_chunk is None else min(self.first_chunk, lo)
        self.last_chunk = hi if self.last_chunk is None else max(self.last_chunk, hi)
        self._n_chunks = None

    def remove_document(self, doc_id: int) -> int:
        """Remove one of this (writable) segment's own documents outright; returns its chunk count."""
        ids = self.chunk_ids_of(doc_id)
        if ids:
            self.vectors.remove_ids(np.array(ids, dtype=np.int64))
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM sections WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        self._n_chunks = None
        return len(ids)

    def absorb(self, other: Segment) -> None:
        """Copy the live documents of ``other`` (ids, rows, vectors and sentence vectors) into this segment
        (a merge)."""
        live = sorted(i for i, in other._rows("SELECT id FROM documents") if i not in other.deleted_docs)
        if not live:
            return
        self.db.execute("ATTACH DATABASE ? AS src", (f"file:{other.sqlite_path}?mode=ro",))
        try:
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS live (id INTEGER PRIMARY KEY)")
            self.db.execute("DELETE FROM temp.live")
            self.db.executemany("INSERT INTO temp.live VALUES (?)", [(i,) for i in live])
            self.db.execute("INSERT INTO documents SELECT * FROM src.documents WHERE id IN (SELECT id FROM temp.live)")
            self.db.execute("INSERT INTO sections SELECT * FROM src.sections WHERE doc_id IN (SELECT id FROM temp.live)")
            rows = self.db.execute(
                "SELECT id, doc_id, ord, start, end, text, page, heading, sentences, sentence_row, tokens, wordpieces,"
                " n_terms"
                " FROM src.chunks WHERE doc_id IN (SELECT id FROM temp.live) ORDER BY id"
            ).fetchall()
            self.db.commit()
        finally:
            self.db.execute("DETACH DATABASE src")
        out = []
        for r in rows:
            n = len(json.loads(r[8]))
            self._sentence_file.write(other._sentence_vectors(r[9], n).astype(SENTENCE_DTYPE).tobytes())
            out.append((*r[:9], self._sentence_rows, *r[10:]))
            self._sentence_rows += n
        self.db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", out)
        chunk_ids = np.array([r[0] for r in rows], dtype=np.int64)
        if len(chunk_ids):
            vectors, ids = all_vectors(other.vectors)
            keep = np.isin(ids, chunk_ids)
            self.vectors.add_with_ids(np.ascontiguousarray(vectors[keep]), ids[keep])
            self._note_chunks(chunk_ids.tolist())

    def empty(self) -> bool:
        return not self._rows("SELECT 1 FROM documents LIMIT 1")

    def save(self) -> None:
        """Commit SQLite, flush the sentence vectors and write the FAISS file, switched to IVF first when
        the segment holds more than ``vector_index.EXACT_MAX`` vectors (see ``vector_index``)."""
        try:
            self.db.commit()
        except sqlite3.Error as exc:  # e.g. a full disk: reported like any other write error
            raise OSError(errno.EIO, f"cannot write {self.sqlite_path.name} ({exc})") from exc
        self._sentence_file.flush()
        if vector_index.needs_rebuild(self.vectors, self.vectors.ntotal, exact_max=vector_index.EXACT_MAX):
            vectors, ids = all_vectors(self.vectors)
            self.vectors = vector_index.build(vectors, ids, exact_max=vector_index.EXACT_MAX)
        try:
            faiss.write_index(self.vectors, str(self.faiss_path))
        except RuntimeError as exc:  # faiss reports failed writes as RuntimeError; its message ends with the cause
            cause = re.search(r"\(([^()]*)\)\s*$", str(exc).strip())
            raise OSError(errno.EIO, f"cannot write {self.faiss_path.name} ({cause.group(1) if cause else 'write failed'})") from exc
