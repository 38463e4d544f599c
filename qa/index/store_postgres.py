"""The PostgreSQL store: documents and chunks in tables, pgvector HNSW (cosine) for dense search, BM25
over ``tsvector`` columns for the lexical side.

For corpora that outgrow one machine's FAISS file, and for several ``qa serve`` processes sharing one
index: PostgreSQL brings replication, backups, partitioning and managed offerings. The engine talks
plain PostgreSQL (psycopg 3 + the ``pgvector`` adapter); any server with the ``vector`` extension works.

Tables (prefix ``qa_``, in the connection's schema, ``search_path`` picks another):

- ``qa_meta``: the manifest (model, chunker, corpus...) and ``version``, bumped by each build's commit.
- ``qa_documents``, ``qa_sections``: as in the embedded store.
- ``qa_chunks``: text, offsets, sentence spans and float16 sentence vectors, ``embedding vector(384)``
  (HNSW, ``vector_cosine_ops``), ``terms tsvector`` (GIN) holding the same stemmed terms as the
  embedded store's FTS5 table, with positions, and ``n_terms`` (the chunk's length for BM25).
- ``qa_terms``: how many chunks hold each term, kept in step by every build, for BM25's idf.

Lexical ranking is Okapi BM25 with FTS5's constants (k1 = 1.2, b = 0.75, idf floored at 1e-6), so both
stores rank alike; candidates come from the GIN index (``terms @@ 'a' | 'b'``).

A build runs in one transaction under an advisory lock (a second ``qa index`` waits): a crash or an
error rolls everything back and readers keep seeing the previous state; readers see a build's changes
all at once when it commits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import threading
import weakref
from collections import Counter

import numpy as np

from qa.config import EMBED_DIM, ChunkerSettings
from qa.errors import IndexIncompatible, IndexMissing, QAError
from qa.index.index_dir import incompatibility
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
from qa.ingest.documents import Section, fallback_title
from qa.ingest.lexical import terms as text_terms

log = logging.getLogger(__name__)

LOCK_KEY = 0x71612D696E646578  # "qa-index": the advisory lock one build at a time holds
EF_SEARCH = 200  # HNSW candidate list; must be >= the number of results asked for
BM25_K1, BM25_B = 1.2, 0.75
MAX_LEXEME_BYTES = 2046  # PostgreSQL refuses longer lexemes
MAX_POSITIONS = 255  # and keeps at most 256 positions per lexeme

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS qa_meta (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS qa_documents (
    id bigserial PRIMARY KEY,
    source text NOT NULL UNIQUE,
    kind text NOT NULL,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    mtime double precision NOT NULL,
    indexed_at double precision NOT NULL,
    text text NOT NULL,
    title text
);
-- columns added after the first indexes were built (older readers read the default instead)
ALTER TABLE qa_documents ADD COLUMN IF NOT EXISTS title text;
CREATE TABLE IF NOT EXISTS qa_sections (
    doc_id bigint NOT NULL REFERENCES qa_documents(id) ON DELETE CASCADE,
    start integer NOT NULL,
    page integer,
    heading text
);
CREATE INDEX IF NOT EXISTS qa_sections_doc ON qa_sections (doc_id, start);
ALTER TABLE qa_sections ADD COLUMN IF NOT EXISTS ocr boolean NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS qa_chunks (
    id bigserial PRIMARY KEY,
    doc_id bigint NOT NULL REFERENCES qa_documents(id) ON DELETE CASCADE,
    ord integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    text text NOT NULL,
    page integer,
    heading text,
    sentences jsonb NOT NULL,
    sentence_vectors bytea NOT NULL,
    tokens integer NOT NULL,
    wordpieces integer NOT NULL,
    embedding vector({EMBED_DIM}) NOT NULL,
    terms tsvector NOT NULL,
    n_terms integer NOT NULL
);
-- keep the vector and the terms in the row itself (not in TOAST): every dense and BM25 candidate reads them
ALTER TABLE qa_chunks ALTER COLUMN embedding SET STORAGE PLAIN;
ALTER TABLE qa_chunks ALTER COLUMN terms SET STORAGE MAIN;
CREATE INDEX IF NOT EXISTS qa_chunks_doc ON qa_chunks (doc_id, ord);
CREATE INDEX IF NOT EXISTS qa_chunks_embedding ON qa_chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX IF NOT EXISTS qa_chunks_terms ON qa_chunks USING gin (terms);
CREATE TABLE IF NOT EXISTS qa_terms (term text PRIMARY KEY, df integer NOT NULL);
"""

BM25_SQL = f"""
WITH q(term, idf) AS (SELECT * FROM unnest(%(terms)s::text[], %(idf)s::float8[]))
SELECT c.id,
       SUM(q.idf * u.tf * {BM25_K1 + 1} / (u.tf + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * c.n_terms / %(avgdl)s))) AS score
FROM qa_chunks c
CROSS JOIN LATERAL (SELECT lexeme, cardinality(positions) AS tf FROM unnest(c.terms)) u
JOIN q ON q.term = u.lexeme
WHERE c.terms @@ %(tsquery)s::tsquery AND (%(within)s::bigint[] IS NULL OR c.id = ANY(%(within)s::bigint[]))
GROUP BY c.id
ORDER BY score DESC, c.id
LIMIT %(k)s
"""


def redact(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _psycopg():
    try:
        import psycopg
        from pgvector.psycopg import register_vector
    except ImportError as exc:
        raise QAError("the PostgreSQL store needs psycopg and pgvector: pip install 'psycopg[binary]' pgvector "
                      "(or the project's 'postgres' extra)") from exc
    return psycopg, register_vector


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def connect(url: str, autocommit: bool = True, vectors: bool = True):
    """A connection with the vector type registered (``vectors`` needs the extension to exist)."""
    psycopg, register_vector = _psycopg()
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except psycopg.Error as exc:
        raise QAError(f"cannot connect to PostgreSQL at {redact(url)}: {_first_line(exc)}") from exc
    if vectors:
        try:
            register_vector(conn)
        except psycopg.ProgrammingError as exc:  # the extension is not installed in this database
            conn.close()
            raise IndexMissing(f"no index in {redact(url)} (the 'vector' extension is not installed there); "
                               f"build one with: qa index FOLDER --store URL") from exc
    return conn


def tsvector_literal(terms: list[str]) -> str:
    """The ``tsvector`` of a chunk's stemmed terms, with positions (lexemes taken verbatim)."""
    positions: dict[str, list[int]] = {}
    for pos, term in enumerate(terms, 1):
        if len(term.encode()) <= MAX_LEXEME_BYTES:
            slots = positions.setdefault(term, [])
            if len(slots) < MAX_POSITIONS:
                slots.append(min(pos, 16383))
    return " ".join(f"{_quote(t)}:{','.join(map(str, p))}" for t, p in positions.items())


def tsquery_literal(query: list[str]) -> str:
    return " | ".join(_quote(t) for t in query)


def _quote(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL; U+FFFD keeps every offset in place."""
    return text.replace("\x00", "\ufffd")


def _usable(query: list[str]) -> list[str]:
    return [t for t in dict.fromkeys(query) if t and len(t.encode()) <= MAX_LEXEME_BYTES]


class PostgresStore(Store):
    """One connection. Read stores run autocommit under a lock (one query at a time per store) and see
    each commit as it lands; the build's store runs inside its transaction."""

    def __init__(self, url: str, conn=None, stats: dict | None = None) -> None:
        self.url = url
        self.writable = conn is not None and not conn.autocommit
        self._lock = threading.Lock()
        self._stats = stats or {}
        self._use(conn or connect(url))

    def _use(self, conn) -> None:
        conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
        self.conn = conn
        self._present: dict[tuple[str, str], bool] = {}
        weakref.finalize(self, conn.close)  # a replaced store (or connection) lets its connection go

    def close(self) -> None:
        self.conn.close()

    def _rows(self, sql: str, params=None) -> list[tuple]:
        psycopg, _ = _psycopg()
        with self._lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except psycopg.OperationalError as exc:
                if self.writable:
                    raise
                self._use(connect(self.url))  # the server restarted or dropped us: one new connection
                try:
                    return self.conn.execute(sql, params).fetchall()
                except psycopg.OperationalError:
                    raise QAError(f"lost the connection to PostgreSQL at {redact(self.url)}: {_first_line(exc)}") from exc

    # --- reading ---------------------------------------------------------------------------------

    def _has(self, table: str, column: str) -> bool:
        """Whether ``table`` has ``column`` (not in a database indexed before the column was added)."""
        if (table, column) not in self._present:
            self._present[table, column] = self._rows(
                "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s)"
                " AND attname = %s AND NOT attisdropped)", (table, column))[0][0]
        return self._present[table, column]

    def _title_column(self) -> str:
        return "d.title" if self._has("qa_documents", "title") else "NULL"

    def documents(self) -> list[DocumentRecord]:
        rows = self._rows(
            "SELECT d.id, d.source, d.kind, d.sha256, d.size, d.mtime, d.indexed_at,"
            f" (SELECT count(*) FROM qa_chunks c WHERE c.doc_id = d.id), {self._title_column()}"
            " FROM qa_documents d ORDER BY d.source"
        )
        return [DocumentRecord(*r[:8], title=r[8] or "") for r in rows]

    def titles(self, sources: list[str]) -> dict[str, str]:
        sources = list(dict.fromkeys(sources))
        if not sources:
            return {}
        rows = self._rows(f"SELECT d.source, {self._title_column()} FROM qa_documents d WHERE d.source = ANY(%s)",
                          (sources,))
        return {source: title or fallback_title(source) for source, title in rows}

    def document_text(self, source: str) -> str | None:
        rows = self._rows("SELECT text FROM qa_documents WHERE source = %s", (source,))
        return rows[0][0] if rows else None

    def sections(self, doc_id: int) -> list[Section]:
        ocr = "ocr" if self._has("qa_sections", "ocr") else "false"
        rows = self._rows(f"SELECT start, page, heading, {ocr} FROM qa_sections WHERE doc_id = %s ORDER BY start",
                          (doc_id,))
        return [Section(*r) for r in rows]

    def _stat(self, name: str) -> float:
        if self.writable or name not in self._stats:
            n, total = self._rows("SELECT count(*), coalesce(sum(n_terms), 0) FROM qa_chunks")[0]
            self._stats = {"chunks": int(n), "terms": int(total)}
        return self._stats[name]

    @property
    def n_chunks(self) -> int:
        return int(self._stat("chunks"))

    def dense_search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        vec = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        sql = "SELECT id, 1 - (embedding <=> %s) FROM qa_chunks ORDER BY embedding <=> %s LIMIT %s"
        if k <= EF_SEARCH:
            rows = self._rows(sql, (vec, vec, k))
        else:  # HNSW returns at most ef_search rows
            with self._lock, self.conn.transaction():
                self.conn.execute(f"SET LOCAL hnsw.ef_search = {int(k)}")
                rows = self.conn.execute(sql, (vec, vec, k)).fetchall()
        return [(int(i), float(s)) for i, s in rows]

    def lexical_search(self, query: list[str], k: int, within: list[int] | None = None) -> list[tuple[int, float]]:
        query = _usable(query)
        if not query or k <= 0 or (within is not None and not within):
            return []
        n = self.n_chunks
        df = self.document_frequencies(query)
        query = [t for t in query if df.get(t)]
        if not query or n == 0:
            return []
        idf = [max(math.log((n - df[t] + 0.5) / (df[t] + 0.5)), 1e-6) for t in query]
        avgdl = max(self._stat("terms") / n, 1e-9)
        rows = self._rows(BM25_SQL, {"terms": query, "idf": idf, "avgdl": avgdl,
                                     "tsquery": tsquery_literal(query), "k": k,
                                     "within": None if within is None else [int(i) for i in within]})
        return [(int(i), float(s)) for i, s in rows]

    def describe_vectors(self) -> str:
        return f"pgvector HNSW (cosine, ef_search={EF_SEARCH}), {self.n_chunks} vectors, dim {EMBED_DIM}"

    def dense_scores(self, ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        if not ids:
            return {}
        vec = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        rows = self._rows("SELECT id, 1 - (embedding <=> %s) FROM qa_chunks WHERE id = ANY(%s)", (vec, list(ids)))
        return {int(i): float(s) for i, s in rows}

    def document_frequencies(self, query: list[str]) -> dict[str, int]:
        query = _usable(query)
        if not query:
            return {}
        return dict(self._rows("SELECT term, df FROM qa_terms WHERE term = ANY(%s)", (query,)))

    def chunks(self, ids: list[int]) -> list[StoredChunk]:
        if not ids:
            return []
        rows = self._rows(
            "SELECT c.id, d.source, c.doc_id, c.start, c.end, c.text, c.page, c.heading, c.sentences,"
            " c.sentence_vectors FROM qa_chunks c JOIN qa_documents d ON d.id = c.doc_id WHERE c.id = ANY(%s)",
            (list(ids),),
        )
        return stored_chunks(rows, ids)  # jsonb arrives as lists already

    def chunk_ids_of(self, source: str) -> list[int]:
        rows = self._rows(
            "SELECT c.id FROM qa_chunks c JOIN qa_documents d ON d.id = c.doc_id WHERE d.source = %s ORDER BY c.ord",
            (source,),
        )
        return [r[0] for r in rows]

    # --- writing (inside a build's transaction) --------------------------------------------------

    def remove_document(self, source: str) -> int:
        rows = self._rows("SELECT id FROM qa_documents WHERE source = %s", (source,))
        if not rows:
            return 0
        doc_id = rows[0][0]
        counts = self._rows(
            "SELECT u.lexeme, count(*) FROM qa_chunks c, unnest(c.terms) u WHERE c.doc_id = %s GROUP BY u.lexeme",
            (doc_id,),
        )
        if counts:
            lexemes = [t for t, _ in counts]
            self.conn.execute(
                "UPDATE qa_terms t SET df = t.df - d.n FROM unnest(%s::text[], %s::int[]) AS d(term, n)"
                " WHERE t.term = d.term",
                (lexemes, [int(n) for _, n in counts]),
            )
            self.conn.execute("DELETE FROM qa_terms WHERE term = ANY(%s) AND df <= 0", (lexemes,))
        n = self._rows("SELECT count(*) FROM qa_chunks WHERE doc_id = %s", (doc_id,))[0][0]
        self.conn.execute("DELETE FROM qa_documents WHERE id = %s", (doc_id,))
        return int(n)

    def add_document(self, doc, *, sha256, size, mtime, indexed_at, chunks, chunk_vectors, sentence_vectors) -> None:
        with self._lock:
            cur = self.conn.cursor()
            cur.execute(
                "INSERT INTO qa_documents (source, kind, sha256, size, mtime, indexed_at, text, title)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
                (doc.source, doc.kind, sha256, size, mtime, indexed_at, _no_nul(doc.text), _no_nul(doc.title) or None),
            )
            doc_id = cur.fetchone()[0]
            cur.executemany(
                "INSERT INTO qa_sections (doc_id, start, page, heading, ocr) VALUES (%s,%s,%s,%s,%s)",
                [(doc_id, s.start, s.page, s.heading, s.ocr) for s in doc.sections],
            )
            df: Counter[str] = Counter()
            rows = []
            for ord_, (chunk, vec, svecs) in enumerate(zip(chunks, chunk_vectors, sentence_vectors)):
                chunk_terms = [t for t in text_terms(chunk.text) if len(t.encode()) <= MAX_LEXEME_BYTES]
                df.update(set(chunk_terms))
                rows.append((
                    doc_id, ord_, chunk.start, chunk.end, _no_nul(chunk.text), chunk.page, chunk.heading,
                    json.dumps(chunk.sentences), pack_sentence_vectors(svecs), chunk.tokens,
                    chunk.wordpieces, np.asarray(vec, dtype=np.float32), tsvector_literal(chunk_terms),
                    len(chunk_terms),
                ))
            cur.executemany(
                'INSERT INTO qa_chunks (doc_id, ord, start, "end", text, page, heading, sentences, sentence_vectors,'
                " tokens, wordpieces, embedding, terms, n_terms)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s::tsvector,%s)",
                rows,
            )
            if df:
                cur.execute(
                    "INSERT INTO qa_terms (term, df) SELECT * FROM unnest(%s::text[], %s::int[])"
                    " ON CONFLICT (term) DO UPDATE SET df = qa_terms.df + EXCLUDED.df",
                    (list(df), list(df.values())),
                )


def _meta(conn, key: str):
    psycopg, _ = _psycopg()
    try:
        row = conn.execute("SELECT value FROM qa_meta WHERE key = %s", (key,)).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return row[0] if row else None


class PostgresBuild(Build):
    def __init__(self, url: str, conn, rebuilt: str | None, wipe: bool) -> None:
        self.url, self.conn, self.rebuilt, self._wipe = url, conn, rebuilt, wipe
        self.indexed, self.base_chunks = {}, 0
        if not wipe:
            self.indexed = dict(conn.execute("SELECT source, sha256 FROM qa_documents").fetchall())
            self.base_chunks = conn.execute("SELECT count(*) FROM qa_chunks").fetchone()[0]
        self._store: PostgresStore | None = None

    def store(self) -> PostgresStore:
        if self._store is None:
            conn = connect(self.url, autocommit=False)
            if self._wipe:
                conn.execute("DELETE FROM qa_documents")  # cascades; TRUNCATE would block readers
                conn.execute("DELETE FROM qa_terms")
            self._store = PostgresStore(self.url, conn=conn)
        return self._store

    def commit(self, manifest: dict) -> None:
        store = self.store()
        conn = store.conn
        n, total = conn.execute("SELECT count(*), coalesce(sum(n_terms), 0) FROM qa_chunks").fetchone()
        version = int(_meta(conn, "version") or 0) + 1
        manifest = dict(manifest, stats={"chunks": int(n), "terms": int(total)})
        for key, value in (("manifest", manifest), ("version", version)):
            conn.execute(
                "INSERT INTO qa_meta (key, value) VALUES (%s, %s::jsonb)"
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (key, json.dumps(value)),
            )
        conn.commit()
        conn.close()
        self._store = None

    def abort(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.conn.rollback()
            self._store.conn.close()
            self._store = None


class PostgresIndex(Index):
    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = url
        self._conn = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return redact(self.url)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _meta(self, key: str):
        psycopg, _ = _psycopg()
        with self._lock:
            for attempt in (0, 1):
                if self._conn is None or self._conn.closed:
                    self._conn = connect(self.url, vectors=False)
                try:
                    return _meta(self._conn, key)
                except psycopg.OperationalError as exc:
                    self._conn = None
                    if attempt:
                        raise QAError(f"lost the connection to PostgreSQL at {self.describe()}: "
                                      f"{_first_line(exc)}") from exc

    def exists(self) -> bool:
        return self._meta("version") is not None

    def missing_message(self) -> str:
        return f"no index in {self.describe()}; build one with: qa index FOLDER --store URL"

    def version(self) -> int | None:
        return self._meta("version")

    def version_name(self) -> str:
        return f"version {self.version()}"

    def disk_bytes(self) -> int:
        with connect(self.url, vectors=False) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " WHERE c.relkind = 'r' AND c.relname LIKE 'qa\\_%' AND pg_table_is_visible(c.oid)"
            ).fetchone()
        return int(row[0])

    def _manifest(self) -> tuple[dict, int]:
        version, manifest = self._meta("version"), self._meta("manifest")
        if version is None or manifest is None:
            raise IndexMissing(self.missing_message())
        reason = incompatibility(manifest)
        if reason:
            raise IndexIncompatible(f"{reason}; run: qa index --rebuild --store URL")
        return manifest, version

    def open(self) -> tuple[PostgresStore, dict, int]:
        manifest, version = self._manifest()
        return PostgresStore(self.url, stats=manifest.get("stats")), manifest, version

    def open_metadata(self) -> tuple[PostgresStore, dict]:
        store, manifest, _ = self.open()
        return store, manifest

    @contextlib.contextmanager
    def build(self, settings: ChunkerSettings, rebuild: bool = False):
        psycopg, _ = _psycopg()
        lock_conn = connect(self.url, vectors=False)
        build = None
        try:
            if not lock_conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
                log.info("waiting for another 'qa index' on %s to finish...", self.describe())
                lock_conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            self._create_schema(lock_conn)
            manifest = _meta(lock_conn, "manifest")
            rebuilt, wipe = None, rebuild
            if rebuild and manifest is not None:
                rebuilt = REBUILD_ASKED
            elif manifest is not None:
                reason = incompatibility(manifest, settings)
                if reason:
                    rebuilt, wipe = reason, True
            build = PostgresBuild(self.url, lock_conn, rebuilt, wipe)
            yield build
        except psycopg.Error as exc:
            raise QAError(f"PostgreSQL error while indexing: {_first_line(exc)}; the previous index is unchanged") from exc
        finally:
            if build is not None:
                build.abort()  # no-op after a commit
            lock_conn.close()  # releases the advisory lock

    def _create_schema(self, conn) -> None:
        psycopg, _ = _psycopg()
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as exc:
            raise QAError(f"the PostgreSQL server at {self.describe()} lacks the pgvector extension "
                          f"('CREATE EXTENSION vector' failed: {_first_line(exc)})") from exc
        with conn.transaction():
            conn.execute(SCHEMA)
