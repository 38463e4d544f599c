"""BM25 over the chunks' stemmed terms with pruned top-k: a tantivy index (block-max WAND).

The terms are the ones ``qa.ingest.lexical.terms`` gives (lower case, Snowball-stemmed), joined by spaces
and split again by tantivy's whitespace tokenizer, so the analysis is ours and the same as the reader's
word overlap. Each chunk is one tantivy document: its terms (frequencies, no positions) and its chunk id
(an indexed fast field, for deletes, for ``within`` filters and to map hits back).

Scoring is tantivy's BM25: k1 = 1.2, b = 0.75, idf = ln(1 + (N - n + 0.5) / (n + 0.5)), document
lengths kept in one byte (a log-like scale, exact up to 40 terms). Statistics count deleted chunks until
tantivy merges their segment away, as Lucene's do.

A folder written here is only changed by one ``LexicalWriter`` at a time (the build's private copy); its
files are never modified in place (tantivy writes new segment files and replaces ``meta.json``
atomically), which lets a new index generation share the unchanged files by hard links.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import tantivy
from tantivy import Occur, Query

from qa.index.index_dir import IGNORED_NAMES

TERMS = "terms"
CHUNK = "chunk"
WRITER_HEAP = 64_000_000
BM25_K1, BM25_B = 1.2, 0.75  # tantivy's constants (also the PostgreSQL store's)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(TERMS, stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_unsigned_field(CHUNK, stored=False, indexed=True, fast=True)
    return builder.build()


SCHEMA = _schema()


def exists(folder: Path) -> bool:
    return (folder / "meta.json").exists()


class LexicalIndex:
    """A read-only view of the lexical index in ``folder`` (opened once; reloaded by ``refresh``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            self.index = tantivy.Index.open(str(self.folder))
        except ValueError as exc:
            raise OSError(f"cannot open the lexical index in {self.folder}: {exc}") from exc
        self.searcher = self.index.searcher()

    def refresh(self) -> None:
        """See the writer's last commit (only for the build's own view)."""
        self.index.reload()
        self.searcher = self.index.searcher()

    @property
    def n_docs(self) -> int:
        return self.searcher.num_docs

    def search(self, query: list[str], k: int, within: list[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the ``k`` best chunks holding any of the terms, best first."""
        if not query or k <= 0 or (within is not None and not within):
            return []
        q = Query.boolean_query([(Occur.Should, Query.term_query(SCHEMA, TERMS, t)) for t in dict.fromkeys(query)])
        if within is not None:  # a filter that adds nothing to the score
            scope = Query.const_score_query(Query.term_set_query(SCHEMA, CHUNK, [int(i) for i in within]), 0.0)
            q = Query.boolean_query([(Occur.Must, q), (Occur.Must, scope)])
        hits = self.searcher.search(q, k, count=False).hits
        if not hits:
            return []
        ids = self.searcher.fast_field_values(CHUNK, [address for _, address in hits])
        return [(int(i), float(s)) for (s, _), i in zip(hits, ids)]

    def document_frequencies(self, query: list[str]) -> dict[str, int]:
        """How many chunks hold each term (terms in none are left out)."""
        out = {}
        for t in dict.fromkeys(query):
            n = self.searcher.doc_freq(TERMS, t)
            if n:
                out[t] = n
        return out


class LexicalWriter:
    """Changes to the lexical index in ``folder`` (created empty when it holds none), visible after
    ``commit``."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            if exists(self.folder):
                self.index = tantivy.Index.open(str(self.folder))
            else:
                self.index = tantivy.Index(SCHEMA, path=str(self.folder))
            self.writer = self.index.writer(heap_size=WRITER_HEAP * max(1, threads), num_threads=max(1, threads))
        except ValueError as exc:
            raise OSError(f"cannot write the lexical index in {self.folder}: {exc}") from exc

    def add(self, chunk_id: int, terms: Iterable[str]) -> None:
        doc = tantivy.Document()
        doc.add_text(TERMS, " ".join(terms))
        doc.add_unsigned(CHUNK, int(chunk_id))
        self.writer.add_document(doc)

    def delete(self, chunk_ids: list[int]) -> None:
        if chunk_ids:
            self.writer.delete_documents_by_query(Query.term_set_query(SCHEMA, CHUNK, [int(i) for i in chunk_ids]))

    def commit(self) -> None:
        """Write everything and wait for merges, so the folder holds one finished state."""
        try:
            self.writer.commit()
            self.writer.wait_merging_threads()
        except ValueError as exc:
            raise OSError(f"cannot write the lexical index in {self.folder}: {exc}") from exc
        for name in IGNORED_NAMES:  # tantivy's lock files
            with_lock = self.folder / name
            if with_lock.exists():
                os.unlink(with_lock)

    def abort(self) -> None:
        try:
            self.writer.rollback()
        except ValueError:
            pass
