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
- ``qa_terms``: how many chunks hold each term (``df``), kept in step by every build, for BM25's idf,
  and the term's number (``id``) in the impact table.
- the impact table: each term's chunks with the chunk's BM25 weight for the term without its idf
  (``impact`` = tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)), made with the avgdl of the commit that
  last made the table), best first. ``qa_blocks`` holds it as of that commit, cut into rows of
  ``POSTINGS_BLOCK`` postings (chunk ids and impacts as arrays: a few hundred postings per row read);
  ``qa_postings`` holds the postings of chunks added since, one row each, btree on (term, impact,
  chunk_id). Chunks removed since stay in the blocks, listed in ``qa_dead`` (a search skips them), until
  a commit makes the blocks again (when the rows pass ``DELTA_MAX`` of the blocks' postings, ``DEAD_MAX``
  of their chunks were removed, or avgdl drifted).

Lexical ranking is Okapi BM25 with k1 = 1.2, b = 0.75 and idf = ln(1 + (N - n + 0.5) / (n + 0.5)) (the
formula the embedded store's engine uses too), exact document lengths. ``lexical_search`` is a pruned
top-k that returns the exact top k (see ``_pruned_search``): it reads each question term's postings
best impact first (8,192 per term, then 4x more in the terms that keep the search open), scores
candidates exactly from their ``tsvector``, and stops once no unread posting can lift a chunk into the
top k. ``within=`` scores the given chunks exhaustively; databases built before the impact table fall
back to scoring every chunk that holds a question term (the GIN index, ``terms @@ 'a' | 'b'``) until the
next build fills it.

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
import time
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
ALTER TABLE qa_sections ADD COLUMN IF NOT EXISTS confidence real;
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
ALTER TABLE qa_terms ADD COLUMN IF NOT EXISTS id integer GENERATED BY DEFAULT AS IDENTITY;
-- the impact table, in two parts. qa_blocks: each term's postings (chunk, impact) as of the last time
-- the blocks were made, best impact first, cut into rows of a few hundred; ids int8 and impacts float4,
-- big-endian, side by side (stored uncompressed: read whole, often). Chunks removed since stay in them
-- until the blocks are made again (listed in qa_dead below).
CREATE TABLE IF NOT EXISTS qa_blocks (term integer NOT NULL, blk integer NOT NULL, ids bytea NOT NULL,
                                      imps bytea NOT NULL, PRIMARY KEY (term, blk));
ALTER TABLE qa_blocks ALTER COLUMN ids SET STORAGE EXTERNAL;
ALTER TABLE qa_blocks ALTER COLUMN imps SET STORAGE EXTERNAL;
-- the chunks removed since the blocks were made (a search skips their postings there)
CREATE TABLE IF NOT EXISTS qa_dead (chunk_id bigint PRIMARY KEY);
-- qa_postings: one row per posting of the chunks added since (all of them in indexes made before qa_blocks)
CREATE TABLE IF NOT EXISTS qa_postings (term integer NOT NULL, impact real NOT NULL, chunk_id bigint NOT NULL);
-- read backwards: a term's postings best impact first
CREATE INDEX IF NOT EXISTS qa_postings_top ON qa_postings (term, impact, chunk_id);
"""

PRUNE_FIRST = 8192  # postings read per question term in the first round of a pruned search (then x4)
PRUNE_MAX = 65536  # the most postings of one term read in one round trip (lists longer than that take several:
# reading a whole list still costs far less than scoring every chunk that holds the term, well under 1 us a
# posting against ~25 us a chunk)
PRUNE_BATCH = 256  # candidates scored exactly per round trip (best upper bound first)
PRUNE_SCORE_AT_MOST = 1024  # read on instead of scoring while more candidates than this are open
REBUILD_DRIFT = 1.25  # rebuild the impact table when avgdl moved by more than this factor since
POSTINGS_BLOCK = 512  # postings per qa_blocks row
DELTA_MAX = 0.1  # make the blocks again at a commit when the postings added since are more than this share of theirs
DEAD_MAX = 0.2  # or when more than this share of their chunks was removed since


def _impact_sql(tf: str, dl: str, avgdl: str) -> str:
    """BM25's term weight without the idf, in SQL (the same expression everywhere, so that a stored
    impact can be recomputed bit for bit to delete its row)."""
    return (f"({tf}::float8 * {BM25_K1 + 1}::float8 / ({tf}::float8 + {BM25_K1}::float8 * (1::float8 - {BM25_B}::float8"
            f" + {BM25_B}::float8 * {dl}::float8 / {avgdl})))")  # float8 throughout (literals alone are numeric: slow)


_BM25_SELECT = f"""
WITH q(term, idf) AS (SELECT * FROM unnest(%(terms)s::text[], %(idf)s::float8[]))
SELECT c.id, SUM(q.idf * {_impact_sql("u.tf", "c.n_terms", "%(avgdl)s")}) AS score
FROM qa_chunks c
CROSS JOIN LATERAL (SELECT lexeme, cardinality(positions) AS tf
                    FROM unnest(ts_filter(setweight(c.terms, 'A', %(terms)s::text[]), '{{a}}'))) u
JOIN q ON q.term = u.lexeme
"""  # (each tsvector cut down to the question's terms before unnesting it: 5-10x faster than unnesting it whole)
# every chunk holding a question term (the GIN index): the exhaustive BM25
BM25_SQL = _BM25_SELECT + """WHERE c.terms @@ %(tsquery)s::tsquery
GROUP BY c.id ORDER BY score DESC, c.id LIMIT %(k)s
"""
# only the given chunks (a scope, or the candidates of a pruned search)
BM25_IDS_SQL = _BM25_SELECT + """WHERE c.id = ANY(%(ids)s::bigint[])
GROUP BY c.id ORDER BY score DESC, c.id LIMIT %(k)s
"""
# the postings rows of some chunks, as stored (impact made with the table's avgdl)
_POSTING_ROWS = f"""
SELECT t.id, {_impact_sql("cardinality(u.positions)", "c.n_terms", "%(avgdl)s::float8")}::real, c.id
FROM qa_chunks c CROSS JOIN LATERAL unnest(c.terms) u JOIN qa_terms t ON t.term = u.lexeme
"""
# blocks lo..hi-1 of each term (stream j), and which table they are in (a new one each time they are made)
BLOCKS_SQL = """
SELECT q.j, b.ids, b.imps, b.tableoid::int8
FROM unnest(%(bterm)s::int[], %(lo)s::int[], %(hi)s::int[], %(bj)s::int[]) AS q(term, lo, hi, j)
JOIN qa_blocks b ON b.term = q.term AND b.blk >= q.lo AND b.blk < q.hi
"""
# the next postings of each term (stream j) among those added since the blocks, best impact first, after
# (impact, chunk_id) already read; as the blocks hold them
DELTA_SQL = """
SELECT q.j, string_agg(int8send(p.chunk_id), ''::bytea), string_agg(float4send(p.impact), ''::bytea), 0::int8
FROM unnest(%(dterm)s::int[], %(imp)s::real[], %(cid)s::bigint[], %(lim)s::int[], %(dj)s::int[])
     AS q(term, imp, cid, lim, j)
CROSS JOIN LATERAL (
    SELECT chunk_id, impact FROM qa_postings
    WHERE term = q.term AND (impact, chunk_id) < (q.imp, q.cid)
    ORDER BY impact DESC, chunk_id DESC LIMIT q.lim
) p
GROUP BY q.j
"""
# every chunk's postings cut into blocks (made at a commit, in one statement, into a new table that then
# takes qa_blocks' place: rewriting the table in place would leave the old rows' space for vacuum)
MAKE_BLOCKS_SQL = f"""
INSERT INTO qa_blocks_new (term, blk, ids, imps)
SELECT term, (n - 1) / %(block)s, string_agg(int8send(chunk_id), ''::bytea ORDER BY n),
       string_agg(float4send(impact), ''::bytea ORDER BY n)
FROM (SELECT p.*, row_number() OVER (PARTITION BY p.term ORDER BY p.impact DESC, p.chunk_id DESC) AS n
      FROM ({_POSTING_ROWS}) AS p(term, impact, chunk_id)) x
GROUP BY term, (n - 1) / %(block)s
"""


DF_UPSERT = ("INSERT INTO qa_terms (term, df) SELECT * FROM unnest(%s::text[], %s::int[])"
             " ON CONFLICT (term) DO UPDATE SET df = qa_terms.df + EXCLUDED.df")


def idf(n: int, df: int) -> float:
    """BM25's idf: ln(1 + (N - n + 0.5) / (n + 0.5)), always positive."""
    return math.log1p((n - df + 0.5) / (df + 0.5))


def _essential(bound, done: list[bool], budget: float) -> list[int]:
    """The terms to read on: the unfinished ones, largest bound first, until the bounds of those left
    out sum to at most ``budget`` (the k-th best score so far): a chunk seen in none of the terms read on
    could then not enter the top k through the others alone. At least one term."""
    order = sorted((j for j in range(len(done)) if not done[j]), key=lambda j: -bound[j])
    rest, out = float(sum(bound[j] for j in order)), []
    for j in order:
        if out and rest <= budget:
            break
        out.append(j)
        rest -= bound[j]
    return out


def _merged(old: np.ndarray, new: np.ndarray, old_at: np.ndarray, new_at: np.ndarray) -> np.ndarray:
    """The rows of ``old`` at the positions ``old_at`` of the result, those of ``new`` at ``new_at``."""
    out = np.empty((len(old_at) + len(new_at), *old.shape[1:]), dtype=old.dtype)
    out[old_at] = old
    out[new_at] = new
    return out


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

    prune = True  # False: score every chunk holding a question term (the exhaustive BM25; for benchmarks)
    prune_first = PRUNE_FIRST
    score_at_most: int | None = PRUNE_SCORE_AT_MOST  # None: score the best PRUNE_BATCH every round

    def __init__(self, url: str, conn=None, stats: dict | None = None) -> None:
        self.url = url
        self.writable = conn is not None and not conn.autocommit
        self._lock = threading.Lock()
        self._stats = stats or {}
        self.last_search: dict = {}  # how the last pruned search went (rounds, postings read, chunks scored)
        # inside a build: the avgdl the impact table was made with (None: it is rebuilt at commit), and
        # whether a removal found rows it did not expect (then too)
        self.postings_avgdl: float | None = None
        self.postings_stale = False
        self.blocks_upto = 0  # the chunks up to this id are in qa_blocks (later ones in qa_postings)
        self.blocks_dead = 0  # chunks of qa_blocks removed in this build
        # what this build changed: chunks, their terms, rows of qa_postings (the commit's counts, without
        # counting every row again)
        self.changed = Counter()
        self._dead: np.ndarray | None = None  # qa_dead, once read (``_dead_chunks``)
        self.df_pending: Counter[str] = Counter()  # document frequencies not written to qa_terms yet
        self._use(conn or connect(url))

    def _use(self, conn) -> None:
        conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
        self.conn = conn
        self._present: dict[tuple[str, str], bool] = {}
        weakref.finalize(self, conn.close)  # a replaced store (or connection) lets its connection go

    def close(self) -> None:
        self.conn.close()

    def _rows(self, sql: str, params=None, binary: bool = False) -> list[tuple]:
        psycopg, _ = _psycopg()
        with self._lock:
            try:
                return self.conn.execute(sql, params, binary=binary).fetchall()
            except psycopg.OperationalError as exc:
                if self.writable:
                    raise
                self._use(connect(self.url))  # the server restarted or dropped us: one new connection
                try:
                    return self.conn.execute(sql, params, binary=binary).fetchall()
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
        confidence = "confidence" if self._has("qa_sections", "confidence") else "NULL"
        rows = self._rows(f"SELECT start, page, heading, {ocr}, {confidence} FROM qa_sections WHERE doc_id = %s"
                          " ORDER BY start", (doc_id,))
        return [Section(a, b, c, d, confidence=e) for a, b, c, d, e in rows]

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
        vocab = self._vocabulary(query)
        query = [t for t in query if t in vocab]
        if not query or n == 0:
            return []
        params = {"terms": query, "idf": [idf(n, vocab[t][0]) for t in query], "k": k,
                  "avgdl": max(self._stat("terms") / n, 1e-9)}
        made = self._stats.get("postings_avgdl") if self.prune and not self.writable else None
        if within is not None:  # a scope: few chunks, scored exhaustively
            rows = self._rows(BM25_IDS_SQL, dict(params, ids=[int(i) for i in within]))
        elif made and all(vocab[t][1] is not None for t in query):
            rows = self._pruned_search(params, [vocab[t][1] for t in query], made)
        else:  # inside a build, or an index built before the impact table
            rows = self._exhaustive(params)
        return [(int(i), float(s)) for i, s in rows]

    def _exhaustive(self, params: dict) -> list[tuple]:
        return self._rows(BM25_SQL, dict(params, tsquery=tsquery_literal(params["terms"])))

    def _pruned_search(self, params: dict, term_ids: list[int], made_with: float, trust_lower: bool = True) -> list[tuple]:
        """The exact BM25 top k, reading as few postings as it can.

        Each term's postings, best impact first, come in up to two streams: the blocks (``qa_blocks``, as
        of the commit that made them) and the rows added since (``qa_postings``); a chunk is in at most one
        of a term's streams. The first round reads the best ``prune_first`` postings of every stream; later
        rounds read on (4x as many as that stream's last read) only in the terms whose bounds keep the
        search open: the fewest terms, largest bound first, such that the others' bounds alone could no
        longer lift a chunk into the top k (MaxScore's split into essential and non-essential terms, here
        over impact-ordered lists). A common term with a small idf is then rarely read past its first
        postings. A chunk seen in some terms' postings scores exactly ``known`` = sum of idf x impact over
        those terms, plus at most idf x (the last impact read in its streams) for each term it was not
        seen in yet; a chunk in no postings read so far scores at most the sum of the latter over all
        terms (``unseen``). Chunks whose upper bound reaches the k-th best lower bound are scored exactly
        from their ``tsvector``, the best ``PRUNE_BATCH`` a round trip, once no more than ``score_at_most``
        are in the race (reading on is cheaper than scoring many: ~25 us a chunk scored, a block of
        postings read in about the time of one); a chunk whose upper bound falls below what the k-th best
        score will at least be leaves the race for good (bounds only fall). The search ends when the k-th
        best exact score is at least every bound left. Stored impacts were made with the avgdl of an
        earlier commit: each impact is then off by at most the ratio ``r`` of the two avgdls, and the
        bounds are widened by it. The blocks' postings of chunks removed since (``qa_dead``) are left out
        as they are read, so that every lower bound is a chunk's; should a chunk read be gone all the same
        (removed by a commit after this store was opened), the search starts again trusting only exact
        scores (``trust_lower``).
        """
        k, weights, avgdl = params["k"], params["idf"], params["avgdl"]
        r = max(avgdl / made_with, made_with / avgdl) * (1 + 1e-6)  # + float4 rounding of the impacts
        nt = len(term_ids)
        w = np.asarray(weights, dtype=np.float64)
        block = int(self._stats.get("block") or 0)  # postings per block (0: an index made before the blocks)
        delta = self._stats.get("delta_postings") != 0  # rows added since the blocks (None: not counted)
        dead = self._dead_chunks() if block and self._stats.get("blocks_dead") else None
        # the streams: (term, from the blocks?)
        streams = [(j, True) for j in range(nt) if block] + [(j, False) for j in range(nt) if delta]
        ns = len(streams)
        of_term = np.array([j for j, _ in streams], dtype=np.int64)
        last = [math.inf] * ns  # the impact of the last posting read, per stream
        last_id = [0] * ns  # and its chunk id (rows: the next read starts after it)
        next_block = [0] * ns
        done = [False] * ns  # the stream is read to its end
        lims = [max(self.prune_first, k)] * ns  # postings to read in the stream's next read
        # every chunk seen in the postings read so far (sorted ids), the sum of its idf x impact over
        # them, in which terms it was seen (bit t % 64 of word t // 64), and whether it is settled: scored
        # exactly, or out of the race (its upper bound fell below the k-th best lower bound: bounds only fall)
        words = (nt + 63) // 64
        bits = [(t // 64, np.uint64(1) << np.uint64(t % 64)) for t in range(nt)]
        flag = np.exp2(np.arange(nt, dtype=np.float64))  # the same bits as numbers
        seen_ids, seen_known = np.empty(0, dtype=np.int64), np.empty(0)
        seen_in, settled = np.zeros((0, words), dtype=np.uint64), np.zeros(0, dtype=bool)
        exact_ids, exact_scores = np.empty(0, dtype=np.int64), np.empty(0)  # scored (-inf: removed since)
        todo = list(range(ns))  # the streams read next
        fetch, rounds, postings, top = bool(ns), 0, 0, []
        bound = np.zeros(nt)
        unseen, cand, upper, lower, live = 0.0, np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), np.empty(0, int)

        def finish(**how) -> None:
            self.last_search = {"rounds": rounds, "postings": postings, "scored": len(exact_ids), "exhaustive": False,
                                "trust_lower": trust_lower, **how}

        while True:
            rounds += 1
            fresh = fetch
            if fetch:
                if rounds > 64:  # a safety net: the bounds did not close in 64 round trips, score them all
                    finish(exhaustive=True)
                    return self._exhaustive(params)
                got, want, table = self._read_streams(todo, streams, term_ids, block, lims, next_block, last, last_id, dead)
                if table is not None and self._stats.get("blocks_table") not in (None, table):
                    # the blocks were made again (with another avgdl, other chunks) by a commit since this
                    # store was opened: its bounds do not hold for them; exact, the slow way, until reopened
                    finish(exhaustive=True, stale=True)
                    return self._exhaustive(params)
                j = np.concatenate([np.full(len(c), of_term[s], dtype=np.int64) for s, c, _, _ in got] or [np.empty(0, int)])
                cid = np.concatenate([c for _, c, _, _ in got] or [np.empty(0, np.int64)]).astype(np.int64)
                imp = np.concatenate([i for _, _, i, _ in got] or [np.empty(0)]).astype(np.float64)
                if len(j):
                    u, inv = np.unique(cid, return_inverse=True)  # merged into what was seen before
                    add = np.bincount(inv, weights=w[j] * imp, minlength=len(u))
                    at = np.searchsorted(seen_ids, u)
                    again = at < len(seen_ids)
                    again[again] = seen_ids[at[again]] == u[again]
                    seen_known[at[again]] += add[again]
                    first = ~again
                    # the merged arrays: the new chunks at new_at, the others keep their order
                    new_at = at[first] + np.arange(int(first.sum()))
                    is_old = np.ones(len(seen_ids) + len(new_at), dtype=bool)
                    is_old[new_at] = False
                    old = np.flatnonzero(is_old)
                    slot = np.empty(len(u), dtype=np.int64)  # where each chunk of u is in the merged arrays
                    slot[first] = new_at
                    slot[again] = old[at[again]]
                    seen_ids = _merged(seen_ids, u[first], old, new_at)
                    seen_known = _merged(seen_known, add[first], old, new_at)
                    settled = _merged(settled, np.zeros(len(new_at), dtype=bool), old, new_at)
                    seen_in = _merged(seen_in, np.zeros((len(new_at), words), dtype=np.uint64), old, new_at)
                    if words == 1 and nt <= 52:  # one bit per term, distinct per chunk: or = sum, exact in float64
                        seen_in[slot, 0] |= np.bincount(inv, weights=flag[j], minlength=len(u)).astype(np.uint64)
                    else:
                        for t in np.unique(j).tolist():
                            word, bit = bits[t]
                            seen_in[slot[inv[j == t]], word] |= bit
                for s in todo:
                    done[s] = want[s] > sum(read for t, _, _, read in got if t == s)
                    lims[s] = min(lims[s] * 4, PRUNE_MAX)
                postings += len(j)
            if fresh:  # new postings: every bound moves (rounds that only score reuse them)
                bound = np.zeros(nt)  # per term: a chunk is in at most one of its streams
                for s, (t, _) in enumerate(streams):
                    if not done[s]:
                        bound[t] = max(bound[t], weights[t] * last[s])
                unseen = r * float(bound.sum())
                live = np.flatnonzero(~settled)
                cand, in_live = seen_ids[live], seen_in[live]
                missing = np.zeros(len(live))  # the bounds of the terms each chunk was not seen in
                for t in np.flatnonzero(bound).tolist():
                    word, bit = bits[t]
                    missing += bound[t] * ((in_live[:, word] & bit) == 0)
                upper = r * (seen_known[live] + missing)
                lower = seen_known[live] / r
            known = exact_scores[exact_scores > -math.inf]
            pool = np.concatenate([lower, known])
            floor = float(np.partition(pool, len(pool) - k)[len(pool) - k]) if len(pool) >= k else -math.inf
            pick_at = np.flatnonzero(upper >= floor)
            # read on first when many are open: deeper postings tighten the bounds of many for less
            deferred = (self.score_at_most is not None and fresh and len(pick_at) > self.score_at_most
                        and not all(done))
            if deferred:
                pick_at = pick_at[:0]
            if len(pick_at) > PRUNE_BATCH:
                pick_at = pick_at[np.argpartition(-upper[pick_at], PRUNE_BATCH - 1)[:PRUNE_BATCH]]
            pick = cand[pick_at].tolist()
            if pick:
                got_scores = dict(self._rows(BM25_IDS_SQL, dict(params, ids=pick, k=len(pick))))
                if trust_lower and len(got_scores) < len(pick):
                    # a chunk read was removed by a commit since this store was opened: its lower bound
                    # was none, and may have let others out of the race; again, trusting exact scores only
                    return self._pruned_search(params, term_ids, made_with, trust_lower=False)
                exact_ids = np.concatenate([exact_ids, cand[pick_at]])
                exact_scores = np.concatenate([exact_scores, [got_scores.get(c, -math.inf) for c in pick]])  # -inf: removed
            ok = exact_scores > -math.inf
            best = np.lexsort((exact_ids[ok], -exact_scores[ok]))[:k]  # by score, then chunk id
            top = list(zip(exact_ids[ok][best].tolist(), exact_scores[ok][best].tolist()))
            theta = top[-1][1] if len(top) == k else -math.inf
            # what the k-th best score will at least be: the k-th best exact score, or the k-th best lower
            # bound while every chunk read is a live one (the removed ones are left out as read)
            bar = max(theta, floor) if trust_lower else theta
            out = upper < bar  # out of the race for good, as are the chunks just scored
            out[pick_at] = True
            if out.any():
                settled[live[out]] = True
                keep = ~out
                cand, upper, lower, live = cand[keep], upper[keep], lower[keep], live[keep]
            rest = float(upper.max()) if len(upper) else -math.inf
            # read on when a chunk not seen yet could enter the top k, or when too many seen ones still
            # could (deeper postings tighten their bounds for less than scoring them all would cost)
            fetch = not all(done) and (unseen > bar or int((upper > bar).sum()) > 2 * PRUNE_BATCH or deferred)
            if fetch:
                term_done = [all(done[s] for s in range(ns) if streams[s][0] == t) for t in range(nt)]
                terms = _essential(bound, term_done, bar / r)
                todo = [s for s in range(ns) if not done[s] and streams[s][0] in terms]
            if (all(done) and not len(upper)) or (theta >= unseen and theta >= rest) or not (pick or fetch):
                finish()
                return top

    def _read_streams(self, todo, streams, term_ids, block, lims, next_block, last, last_id, dead):
        """One round trip: the next postings of the streams ``todo``. Returns [(stream, chunk ids,
        impacts, how many were read)] (the blocks' postings of ``dead`` chunks left out), per stream how many
        postings were asked for (fewer came: the stream is read to its end), and the table the blocks came
        from (None: none read); moves the streams' cursors (``next_block``, ``last``, ``last_id``) past what
        was read."""
        bs = [s for s in todo if streams[s][1]]
        ds = [s for s in todo if not streams[s][1]]
        parts, params, want = [], {}, {}
        if bs:
            n = [-(-lims[s] // block) for s in bs]
            parts.append(BLOCKS_SQL)
            params.update(bterm=[term_ids[streams[s][0]] for s in bs], lo=[next_block[s] for s in bs],
                          hi=[next_block[s] + m for s, m in zip(bs, n)], bj=bs)
            for s, m in zip(bs, n):
                want[s] = m * block
                next_block[s] += m
        if ds:
            parts.append(DELTA_SQL)
            params.update(dterm=[term_ids[streams[s][0]] for s in ds], imp=[last[s] for s in ds],
                          cid=[last_id[s] for s in ds], lim=[lims[s] for s in ds], dj=ds)
            want.update((s, lims[s]) for s in ds)
        got, table = [], None
        for s, ids, imps, where in self._rows(" UNION ALL ".join(parts), params, binary=True):
            if streams[s][1]:
                table = where
            c, i = np.frombuffer(ids, dtype=">i8"), np.frombuffer(imps, dtype=">f4")
            if len(c):
                # the lowest (impact, chunk id) read: where the stream now is (a block's is its last)
                at = len(c) - 1 if streams[s][1] else int(np.lexsort((c, i))[0])
                if (float(i[at]), int(c[at])) < (last[s], last_id[s]) or last[s] == math.inf:
                    last[s], last_id[s] = float(i[at]), int(c[at])
                read = len(c)
                if dead is not None and len(dead) and streams[s][1]:
                    alive = dead[np.minimum(np.searchsorted(dead, c), len(dead) - 1)] != c
                    c, i = c[alive], i[alive]
                got.append((s, c, i, read))
        return got, want, table

    def _dead_chunks(self) -> np.ndarray:
        """The chunks removed since the blocks were made (sorted; read once per store: a store is made
        anew for each version of the index)."""
        if self._dead is None:
            self._dead = np.asarray([r[0] for r in self._rows("SELECT chunk_id FROM qa_dead ORDER BY chunk_id")],
                                    dtype=np.int64)
        return self._dead

    def describe_vectors(self) -> str:
        return f"pgvector HNSW (cosine, ef_search={EF_SEARCH}), {self.n_chunks} vectors, dim {EMBED_DIM}"

    def dense_scores(self, ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        if not ids:
            return {}
        vec = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        rows = self._rows("SELECT id, 1 - (embedding <=> %s) FROM qa_chunks WHERE id = ANY(%s)", (vec, list(ids)))
        return {int(i): float(s) for i, s in rows}

    def document_frequencies(self, query: list[str]) -> dict[str, int]:
        return {t: df for t, (df, _) in self._vocabulary(query).items()}

    def _vocabulary(self, query: list[str]) -> dict[str, tuple[int, int | None]]:
        """term -> (how many chunks hold it, its number in the impact table) for the terms some chunk holds."""
        query = _usable(query)
        if not query:
            return {}
        self.flush_counts()
        tid = "id" if self._has("qa_terms", "id") else "NULL"
        rows = self._rows(f"SELECT term, df, {tid} FROM qa_terms WHERE term = ANY(%s) AND df > 0", (query,))
        return {t: (int(df), i) for t, df, i in rows}

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

    def flush_counts(self) -> None:
        """Write the document frequencies ``add_document`` kept back."""
        if self.df_pending:
            pending, self.df_pending = self.df_pending, Counter()
            with self._lock:
                self.conn.execute(DF_UPSERT, (list(pending), list(pending.values())))

    def remove_document(self, source: str) -> int:
        rows = self._rows("SELECT id FROM qa_documents WHERE source = %s", (source,))
        if not rows:
            return 0
        doc_id = rows[0][0]
        if self.blocks_upto:
            self.blocks_dead += self.conn.execute("INSERT INTO qa_dead SELECT id FROM qa_chunks WHERE doc_id = %s AND id <= %s",
                                                  (doc_id, self.blocks_upto)).rowcount
        if self.postings_avgdl is not None and not self.postings_stale:
            made = self._rows(_POSTING_ROWS + " WHERE c.doc_id = %(doc)s AND c.id > %(upto)s",
                              {"avgdl": self.postings_avgdl, "doc": doc_id, "upto": self.blocks_upto})
            if made:
                gone = self.conn.execute(
                    "DELETE FROM qa_postings p USING unnest(%s::int[], %s::real[], %s::bigint[]) AS x(term, impact, chunk_id)"
                    " WHERE p.term = x.term AND p.impact = x.impact AND p.chunk_id = x.chunk_id",
                    ([r[0] for r in made], [r[1] for r in made], [r[2] for r in made])).rowcount
                self.changed.update(rows=-gone)
                if gone != len(made):  # not the rows expected: make the whole table again at commit
                    log.warning("impact table out of step (%d of %d rows of %s); rebuilding it", gone, len(made), source)
                    self.postings_stale = True
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
        n, held = self._rows("SELECT count(*), coalesce(sum(n_terms), 0) FROM qa_chunks WHERE doc_id = %s", (doc_id,))[0]
        self.changed.update(chunks=-int(n), terms=-int(held))
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
                "INSERT INTO qa_sections (doc_id, start, page, heading, ocr, confidence) VALUES (%s,%s,%s,%s,%s,%s)",
                [(doc_id, s.start, s.page, s.heading, s.ocr, s.confidence) for s in doc.sections],
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
            if self.postings_avgdl is None or self.postings_stale:
                # the impact table is made at commit: the counts can wait for it too (an upsert per
                # document makes a new row version of every common term each time, all kept until the
                # transaction ends: a large build slowed down as it went)
                self.df_pending.update(df)
            elif df:
                cur.execute(DF_UPSERT, (list(df), list(df.values())))
            self.changed.update(chunks=len(rows), terms=sum(r[-1] for r in rows))
            if self.postings_avgdl is not None and not self.postings_stale:
                cur.execute("INSERT INTO qa_postings (term, impact, chunk_id)" + _POSTING_ROWS + " WHERE c.doc_id = %(doc)s",
                            {"avgdl": self.postings_avgdl, "doc": doc_id})
                self.changed.update(rows=cur.rowcount)


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
        self._stats: dict = {}  # the live index's statistics (none: nothing to keep)
        if not wipe:
            self.indexed = dict(conn.execute("SELECT source, sha256 FROM qa_documents").fetchall())
            self._stats = (_meta(conn, "manifest") or {}).get("stats") or {}
            # the last commit's count (counting 1M rows takes ~0.16 s); an index made before the counts: count
            self.base_chunks = (int(self._stats["chunks"]) if "chunks" in self._stats
                                else conn.execute("SELECT count(*) FROM qa_chunks").fetchone()[0])
        self._store: PostgresStore | None = None
        self.timings: dict[str, float] = {}  # seconds of the commit's steps (for benchmarks)

    def store(self) -> PostgresStore:
        if self._store is None:
            conn = connect(self.url, autocommit=False)
            if self._wipe:
                conn.execute("DELETE FROM qa_documents")  # cascades; TRUNCATE would block readers
                conn.execute("DELETE FROM qa_terms")
                conn.execute("DELETE FROM qa_postings")
                conn.execute("DELETE FROM qa_dead")  # (the commit makes qa_blocks anew)
            self._store = PostgresStore(self.url, conn=conn)
            self._store.postings_avgdl = self._stats.get("postings_avgdl")
            self._store.blocks_upto = self._stats.get("blocks_upto") or 0  # none: every posting is a row
        return self._store

    def commit(self, manifest: dict) -> None:
        store = self.store()
        conn = store.conn
        store.flush_counts()
        made, before, changed = store.postings_avgdl, self._stats, store.changed
        rows_go = blocks_go = False
        if "chunks" in before and "terms" in before:  # the last commit's counts and this build's changes
            n, total = before["chunks"] + changed["chunks"], before["terms"] + changed["terms"]
        else:
            n, total = conn.execute("SELECT count(*), coalesce(sum(n_terms), 0) FROM qa_chunks").fetchone()
        avgdl = total / n if n else None
        stats = {"chunks": int(n), "terms": int(total)}
        dead = int(before.get("blocks_dead") or 0) + store.blocks_dead
        if made is None:
            delta = 0
        elif before.get("delta_postings") is not None:
            delta = before["delta_postings"] + changed["rows"]
        else:
            delta = conn.execute("SELECT count(*) FROM qa_postings").fetchone()[0]
        if (made is None or store.postings_stale or avgdl is None or max(avgdl / made, made / avgdl) > REBUILD_DRIFT
                or not before.get("block") or delta > DELTA_MAX * before.get("blocks_postings", 0)
                or dead > DEAD_MAX * before.get("blocks_chunks", 0)):
            # the impact table again, from every chunk's terms, with today's avgdl: all in blocks
            t0 = time.perf_counter()
            if made is not None or store.postings_stale or not self._wipe:
                rows_go = True  # emptied just before the commit
                conn.execute("DELETE FROM qa_dead")
            conn.execute("DROP TABLE IF EXISTS qa_blocks_new")
            conn.execute("CREATE TABLE qa_blocks_new (LIKE qa_blocks INCLUDING ALL)")  # its key and storage
            if avgdl:
                conn.execute(MAKE_BLOCKS_SQL, {"avgdl": avgdl, "block": POSTINGS_BLOCK})
            blocks_go = True  # the new table takes the old one's place just before the commit
            upto, held = conn.execute("SELECT coalesce(max(id), 0), coalesce(sum(length(terms)), 0) FROM qa_chunks").fetchone()
            table = conn.execute("SELECT 'qa_blocks_new'::regclass::oid::int8").fetchone()[0]
            made, dead, delta = avgdl, 0, 0
            stats.update(block=POSTINGS_BLOCK, blocks_upto=int(upto), blocks_postings=int(held), blocks_chunks=int(n),
                         blocks_table=int(table))
            self.timings["postings_s"] = time.perf_counter() - t0
        else:
            stats.update({key: before.get(key) for key in ("block", "blocks_upto", "blocks_postings", "blocks_chunks",
                                                             "blocks_table")})
        stats.update(postings_avgdl=made, blocks_dead=dead, delta_postings=int(delta))
        if rows_go:
            # TRUNCATE, not DELETE: nothing left for vacuum, the table's files start empty again. It locks
            # readers out of the table, so only now, for the moment until the commit
            conn.execute("TRUNCATE qa_postings")
        if blocks_go:  # the same lock on the old blocks, as briefly
            conn.execute("DROP TABLE qa_blocks")
            conn.execute("ALTER TABLE qa_blocks_new RENAME TO qa_blocks")
            conn.execute("ALTER INDEX qa_blocks_new_pkey RENAME TO qa_blocks_pkey")
        version = int(_meta(conn, "version") or 0) + 1
        manifest = dict(manifest, stats=stats)
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
