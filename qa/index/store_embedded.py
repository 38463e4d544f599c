"""The embedded store (the default): one index folder of generations, each a list of segments plus one
lexical index.

A generation (see ``index_dir`` for the folder's layout and atomic publishing) holds:
- segments (``segment``): the documents one build added, each in a SQLite file (text and offsets), a FAISS
  file (chunk vectors) and a file of float16 sentence vectors; a later build that removes or changes a
  document of an older segment lists it as deleted instead of rewriting the segment;
- ``lexical/``: a tantivy index over every chunk's stemmed terms (``lexical_index``), BM25 top-k with
  block-max WAND;
- ``manifest.json``: the segments, their deleted documents, the next free ids, and each file's sha256.

A build links the live generation's files into its private folder (no copy), writes one new segment with
what it added and new lexical segments, and publishes. Its cost follows the size of the change, not of
the index. When segments pile up (more than ``MAX_SEGMENTS``) or a segment is mostly deleted, a build
merges them into one (the merge costs what the merged segments hold).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.config import ChunkerSettings
from qa.errors import IndexCorrupt, IndexIncompatible
from qa.index import lexical_index, vector_index
from qa.index.index_dir import IndexDir, incompatibility
from qa.index.lexical_index import BM25_B, BM25_K1, LexicalIndex, LexicalWriter
from qa.index.segment import Segment, file_names
from qa.index.store import (
    REBUILD_ASKED,
    Build,
    DocumentRecord,
    Index,
    Store,
    StoredChunk,
)
from qa.ingest.documents import Document, Section
from qa.ingest.lexical import term_counts, terms

if TYPE_CHECKING:  # building needs the chunker; asking does not
    from qa.ingest.chunker import Chunk

LAYOUT = 3  # the embedded store's on-disk layout (1: one SQLite + FAISS copy per generation; 2: segments without term counts)
LEXICAL_DIR = "lexical"
# More segments than this and a build merges the small ones; a segment with at least this share of its
# chunks deleted is rewritten.
MAX_SEGMENTS = 8
MAX_DELETED_SHARE = 0.5
# The lexical index keeps document lengths in one byte (coarse past 40 terms); the best this many of its
# hits are scored again with exact lengths, the BM25 that the PostgreSQL store computes.
RESCORED = 30


def empty_state() -> dict:
    return {"layout": LAYOUT, "segments": [], "next_segment": 1, "next_doc_id": 1, "next_chunk_id": 1,
            "terms_total": 0}


def layout_of(manifest: dict):
    """The store layout a generation's manifest records (1: before layouts were recorded)."""
    state = manifest.get("store")
    return state.get("layout") if isinstance(state, dict) else 1


def store_state(manifest: dict) -> dict:
    """The store's part of a generation's manifest (why it cannot be read, if it cannot)."""
    have = layout_of(manifest)
    if have != LAYOUT:
        raise IndexIncompatible(f"index uses store layout {have}, this version uses {LAYOUT}; run: qa index --rebuild")
    return manifest["store"]


class EmbeddedStore(Store):
    """The segments and the lexical index of one generation folder. ``state`` is the manifest's
    ``store`` part (``empty_state()`` for a new index); ``writable=True`` is the build's view, which adds
    a new segment and changes the lexical index; ``load_vectors=False`` skips the FAISS files, for
    callers that only need the metadata."""

    def __init__(self, folder: Path, state: dict | None = None, writable: bool = False,
                 load_vectors: bool = True) -> None:
        self.folder = Path(folder)
        self.state = dict(state or empty_state())
        self.writable = writable
        self.segments = [
            # a build reads older segments' vectors only if it merges them
            Segment(self.folder, s["name"], load_vectors=load_vectors and not writable,
                    deleted_docs=s.get("deleted_docs", []))
            for s in self.state["segments"]
        ]
        lexical = self.folder / LEXICAL_DIR
        self.lexical = LexicalIndex(lexical) if lexical_index.exists(lexical) else None
        self._new: Segment | None = None  # the segment this build writes
        self._writer: LexicalWriter | None = None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        for seg in self.segments:
            seg.close()
        self.lexical = None

    # --- reading ---------------------------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        return sorted((d for seg in self.segments for d in seg.documents()), key=lambda d: d.source)

    def indexed(self) -> dict[str, str]:
        """source -> sha256 of every document (what a build compares the folder with)."""
        out: dict[str, str] = {}
        for seg in self.segments:
            out.update(seg.indexed())
        return out

    def titles(self, sources: list[str]) -> dict[str, str]:
        sources = list(dict.fromkeys(sources))
        out: dict[str, str] = {}
        for seg in self.segments if sources else []:
            out.update(seg.titles(sources))
        return out

    def _find(self, source: str) -> tuple[Segment, int] | None:
        for seg in reversed(self.segments):
            doc_id = seg.find(source)
            if doc_id is not None:
                return seg, doc_id
        return None

    def document_text(self, source: str) -> str | None:
        for seg in reversed(self.segments):
            text = seg.document_text(source)
            if text is not None:
                return text
        return None

    def sections(self, doc_id: int) -> list[Section]:
        for seg in self.segments:
            found = seg.sections(doc_id)
            if found:
                return found
        return []

    @property
    def n_chunks(self) -> int:
        return sum(seg.n_chunks for seg in self.segments)

    @property
    def vector_count(self) -> int:
        """Chunk vectors that searches can return (deleted ones left out)."""
        return sum(seg.vectors.ntotal - len(seg.deleted_chunks) for seg in self.segments)

    def dense_search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        hits = [hit for seg in self.segments for hit in seg.dense_search(query_vector, k)]
        return sorted(hits, key=lambda h: -h[1])[:k]

    def lexical_search(self, query: list[str], k: int, within: list[int] | None = None) -> list[tuple[int, float]]:
        """BM25 over stemmed terms; scores are positive, higher is better. The index's pruned top-k (tantivy)
        gives the candidates; the best ``RESCORED`` of them get their exact BM25 (exact document
        lengths) and are ordered by it; the rest follow in the index's order."""
        if self.lexical is None or k <= 0:
            return []
        hits = self.lexical.search(query, max(k, RESCORED), within)
        head, rest = hits[:RESCORED], hits[RESCORED:]
        exact = self._exact_bm25(query, [i for i, _ in head])
        if not exact:
            return hits[:k]
        head = sorted(((i, exact.get(i, s)) for i, s in head), key=lambda h: -h[1])
        floor = head[-1][1]
        return (head + [(i, min(s, floor)) for i, s in rest])[:k]

    def _exact_bm25(self, query: list[str], ids: list[int]) -> dict[int, float]:
        """BM25 (k1 1.2, b 0.75, idf ln(1 + (N - n + 0.5) / (n + 0.5))) of these chunks with exact lengths."""
        n = self.n_chunks
        total = self.state["terms_total"]
        if not ids or not n or not total:
            return {}
        df = self.lexical.document_frequencies(query)
        idf = {t: math.log1p((n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        avgdl = total / n
        found: dict[int, tuple[str, int]] = {}
        for seg in self.segments:
            found.update(seg.lengths(ids))
        out = {}
        counts = term_counts([text for text, _ in found.values()], set(idf))
        for (i, (_, length)), tf in zip(found.items(), counts):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * length / avgdl)
            out[i] = sum(idf[t] * f * (BM25_K1 + 1) / (f + norm) for t, f in tf.items())
        return out

    def describe_vectors(self) -> str:
        parts = [vector_index.describe(seg.vectors) for seg in self.segments]
        if len(parts) == 1:
            return parts[0]
        return f"{len(parts)} segments: " + "; ".join(parts)

    def dense_scores(self, ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        out: dict[int, float] = {}
        for seg in self.segments:
            out.update(seg.dense_scores(ids, query_vector))
        return out

    def document_frequencies(self, query: list[str]) -> dict[str, int]:
        if self.lexical is None or not query:
            return {}
        return self.lexical.document_frequencies(query)

    def chunks(self, ids: list[int]) -> list[StoredChunk]:
        """Chunks by id, in the order asked."""
        by_id = {c.id: c for seg in self.segments for c in seg.chunks(ids)}
        return [by_id[i] for i in ids if i in by_id]

    def chunk_ids_of(self, source: str) -> list[int]:
        found = self._find(source)
        return found[0].chunk_ids_of(found[1]) if found else []

    # --- writing (the build's view) --------------------------------------------------------------

    def _lexical_writer(self) -> LexicalWriter:
        if not self.writable:
            raise NotImplementedError("this store is read-only")
        if self._writer is None:
            self._writer = LexicalWriter(self.folder / LEXICAL_DIR)
        return self._writer

    def _writable_segment(self) -> Segment:
        """A new, empty segment under the next free name (not yet in ``segments``)."""
        name = f"seg-{self.state['next_segment']:06d}"
        self.state["next_segment"] += 1
        return Segment(self.folder, name, writable=True)

    def _new_segment(self) -> Segment:
        seg = self._writable_segment()
        self.segments.append(seg)
        return seg

    def remove_document(self, source: str) -> int:
        """Remove a document and its chunks; returns the number of chunks removed."""
        found = self._find(source)
        if found is None:
            return 0
        writer = self._lexical_writer()
        seg, doc_id = found
        ids = seg.chunk_ids_of(doc_id)
        self.state["terms_total"] -= seg.terms_of(doc_id)
        if seg is self._new:
            seg.remove_document(doc_id)
        else:
            seg.set_deleted(seg.deleted_docs | {doc_id})
        writer.delete(ids)
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
        writer = self._lexical_writer()
        if self._new is None:
            self._new = self._new_segment()
        new = self._new
        doc_id = self.state["next_doc_id"]
        first = self.state["next_chunk_id"]
        chunk_ids = list(range(first, first + len(chunks)))
        chunk_terms = [terms(chunk.text) for chunk in chunks]
        self.state["next_doc_id"] += 1
        self.state["next_chunk_id"] += len(chunks)
        self.state["terms_total"] += sum(map(len, chunk_terms))
        new.add_document(doc, doc_id=doc_id, chunk_ids=chunk_ids, sha256=sha256, size=size, mtime=mtime,
                         indexed_at=indexed_at, chunks=chunks, chunk_vectors=chunk_vectors,
                         sentence_vectors=sentence_vectors, n_terms=[len(t) for t in chunk_terms])
        for chunk_id, chunk_terms_ in zip(chunk_ids, chunk_terms):
            writer.add(chunk_id, chunk_terms_)

    def save(self) -> None:
        """Write the new segment, merge segments if they piled up, commit the lexical index, and record
        the segments in ``state``. The store stays readable afterwards."""
        if not self.writable:
            raise NotImplementedError("this store is read-only")
        if self._new is not None:
            if self._new.empty():
                self._drop(self._new)
            else:
                self._new.save()
            self._new = None
        for seg in [s for s in self.segments if s.n_chunks == 0 and s.deleted_docs]:
            self._drop(seg)  # everything in it was removed
        self._merge_if_needed()
        if self._writer is not None:
            self._writer.commit()
            self._writer = None
            self.lexical = LexicalIndex(self.folder / LEXICAL_DIR)
        self.state["segments"] = [{"name": s.name, "deleted_docs": sorted(s.deleted_docs)} for s in self.segments]

    def _drop(self, seg: Segment) -> None:
        """Close a segment, forget it and delete its files (from this folder only: other generations keep
        their links)."""
        seg.close()
        if seg in self.segments:
            self.segments.remove(seg)
        for name in file_names(seg.name):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.folder / name)

    def _merge_if_needed(self) -> None:
        """Merge a run of adjacent segments into one (ids stay contiguous per segment): the segments
        after the biggest when there are more than ``MAX_SEGMENTS``, and any segment mostly deleted."""
        if len(self.segments) > MAX_SEGMENTS:
            sizes = [s.n_chunks for s in self.segments]
            big = sizes.index(max(sizes))
            after, before = self.segments[big + 1 :], self.segments[:big]
            self._merge(after if len(after) >= 2 else before if len(before) >= 2 else self.segments)
        for seg in list(self.segments):
            total = seg.n_chunks + len(seg.deleted_chunks)
            if seg.deleted_docs and total and len(seg.deleted_chunks) / total >= MAX_DELETED_SHARE:
                self._merge([seg])

    def _merge(self, run: list[Segment]) -> None:
        at = self.segments.index(run[0])
        merged = self._writable_segment()
        for seg in run:
            merged.absorb(seg)
        for seg in run:
            self._drop(seg)
        if merged.empty():
            self._drop(merged)
            return
        merged.save()
        merged.close()
        self.segments.insert(at, Segment(self.folder, merged.name))


class EmbeddedBuild(Build):
    def __init__(self, idx: IndexDir, base: Path | None, base_manifest: dict | None, rebuilt: str | None) -> None:
        self.idx, self.base, self.rebuilt = idx, base, rebuilt
        self.base_manifest = base_manifest or {}
        self.indexed, self.base_chunks = {}, 0
        if base is not None:
            old = EmbeddedStore(base, store_state(self.base_manifest), load_vectors=False)
            try:
                self.indexed = old.indexed()
                self.base_chunks = old.n_chunks
            finally:
                old.close()
        self._tmp: Path | None = None
        self._store: EmbeddedStore | None = None

    def store(self) -> EmbeddedStore:
        if self._store is None:
            self._tmp = self.idx.start_generation(self.base, self.base_manifest.get("files"))
            state = store_state(self.base_manifest) if self.base is not None else empty_state()
            self._store = EmbeddedStore(self._tmp, state, writable=True)
        return self._store

    def commit(self, manifest: dict) -> None:
        store = self.store()
        store.save()
        state = dict(store.state)
        store.close()
        self.idx.publish(self._tmp, dict(manifest, store=state), self.base_manifest.get("files"))
        self._tmp = self._store = None
        self.idx.sweep()

    def abort(self) -> None:
        if self._store is not None:
            self._store.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = self._store = None


class EmbeddedIndex(Index):
    """An index folder (``index_dir.IndexDir``) holding generations of segments."""

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
        return self.dir.disk_bytes()

    def missing_message(self) -> str:
        return self.dir.missing_message()

    def version(self) -> Path | None:
        return self.dir.current()

    def open(self) -> tuple[EmbeddedStore, dict, Path]:
        generation, manifest = self.dir.open_generation()
        return EmbeddedStore(generation, store_state(manifest)), manifest, generation

    def open_metadata(self) -> tuple[EmbeddedStore, dict]:
        generation, manifest = self.dir.open_generation()
        return EmbeddedStore(generation, store_state(manifest), load_vectors=False), manifest

    def verify(self, full: bool = True) -> int:
        generation, manifest = self.dir.open_generation()
        self.dir.verify(generation, manifest, full=full)
        return len(manifest.get("files", {}))

    @contextlib.contextmanager
    def build(self, settings: ChunkerSettings, rebuild: bool = False):
        idx = self.dir
        with idx.lock():
            idx.sweep()
            base = None if rebuild else idx.current()
            rebuilt = REBUILD_ASKED if rebuild and idx.exists() else None
            manifest = None
            if base is not None:
                manifest = idx.manifest(base)
                reason = incompatibility(manifest, settings) or _layout_change(manifest)
                if reason:
                    rebuilt, base, manifest = reason, None, None
                else:
                    try:
                        idx.verify(base, manifest)
                    except IndexCorrupt as exc:
                        raise IndexCorrupt(f"{exc} (or delete '{idx.path}')") from exc
            build = EmbeddedBuild(idx, base, manifest, rebuilt)
            try:
                yield build
            finally:
                build.abort()  # no-op after a commit


def _layout_change(manifest: dict) -> str | None:
    """Why an index of an older layout is rebuilt (None: same layout)."""
    have = layout_of(manifest)
    return None if have == LAYOUT else f"index was built with store layout {have}, this version uses {LAYOUT}"
