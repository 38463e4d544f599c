"""What only the PostgreSQL store has to show: same rankings as the embedded store, transactions,
several processes sharing one database, and the command line with --store / QA_STORE.

The engine's own tests (test_ask, test_index) already run against both stores.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from qa import Answerer, build_index
from qa.errors import IndexIncompatible
from qa.index.index_dir import expected_settings
from qa.ingest.lexical import query_terms

from .conftest import JAPAN_Q, ROOT, SEEDS, new_database, run_qa, serving

QUESTIONS = [q.strip() for q in (ROOT / "bench" / "seed_questions.txt").read_text().splitlines() if q.strip()]


@pytest.fixture(scope="module")
def both(pg_server, seed_index, embedder):
    url = new_database(pg_server)
    build_index(SEEDS, url, embedder=embedder, progress=False)
    return Answerer(seed_index, embedder=embedder), Answerer(url, embedder=embedder)


def places(store, hits):
    """(source, start) of ranked chunk ids: chunk ids differ between stores, places do not."""
    by_id = {c.id: (c.source, c.start) for c in store.chunks([i for i, _ in hits])}
    return [by_id[i] for i, _ in hits]


def bm25_reference(store, query: list[str]) -> dict[int, float]:
    """The BM25 both stores promise (k1 1.2, b 0.75, idf ln(1 + (N - n + 0.5) / (n + 0.5)), exact lengths),
    computed here from every chunk's text, for every chunk holding a query term."""
    import math
    from collections import Counter

    from qa.ingest.lexical import terms

    ids = [i for d in store.documents() for i in store.chunk_ids_of(d.source)]
    bags = {c.id: Counter(terms(c.text)) for c in store.chunks(ids)}
    n, avgdl = len(bags), sum(sum(b.values()) for b in bags.values()) / len(bags)
    idf = {t: math.log1p((n - df + 0.5) / (df + 0.5)) for t in query if (df := sum(t in b for b in bags.values()))}
    return {cid: sum(idf[t] * b[t] * 2.2 / (b[t] + 1.2 * (0.25 + 0.75 * sum(b.values()) / avgdl)) for t in idf if t in b)
            for cid, b in bags.items() if any(t in b for t in idf)}


def test_both_stores_rank_and_answer_alike(both, embedder):
    """Same places, answers and citations; PostgreSQL's BM25 is exactly the formula above. The embedded
    store's BM25 engine may round document lengths (tantivy keeps them in one byte) or differ in idf:
    its top 5 must share 4 places with PostgreSQL's, and the two top places may only swap with the
    second (a near tie)."""
    embedded, postgres = both
    assert postgres.store.n_chunks == embedded.store.n_chunks > 5
    for question in QUESTIONS:
        terms = query_terms(question)
        lex_e = embedded.store.lexical_search(terms, 5)
        lex_p = postgres.store.lexical_search(terms, 5)
        pe, pp = places(embedded.store, lex_e), places(postgres.store, lex_p)
        assert len(pe) == len(pp), question
        if pp:
            assert pe[0] in pp[:2] and pp[0] in pe[:2], question
            assert len(set(pe) & set(pp)) >= min(4, len(pp)), question
        reference = bm25_reference(postgres.store, terms)
        assert [s for _, s in lex_p] == pytest.approx([reference[i] for i, _ in lex_p], rel=1e-9), question
        best = sorted(reference.values(), reverse=True)[:5]
        assert [s for _, s in lex_p] == pytest.approx(best, rel=1e-9), question
        qvec = embedder.encode_queries([question])[0]
        dense_e = embedded.store.dense_search(qvec, 5)
        dense_p = postgres.store.dense_search(qvec, 5)
        assert places(embedded.store, dense_e) == places(postgres.store, dense_p), question
        assert [s for _, s in dense_e] == pytest.approx([s for _, s in dense_p], abs=1e-4)
        a, b = embedded.ask(question), postgres.ask(question)
        assert (a.answer, [(c.source, c.start, c.end) for c in a.citations]) == \
               (b.answer, [(c.source, c.start, c.end) for c in b.citations]), question


def _add_texts(store, source: str, texts: list[str], seed: int) -> None:
    """One document of these chunk texts, random vectors (only the lexical side is looked at)."""
    import numpy as np

    from qa.ingest.chunker import Chunk
    from qa.ingest.documents import Document, Section

    text, chunks = "", []
    for t in texts:
        start = len(text) + (2 if text else 0)
        text += ("\n\n" if text else "") + t
        chunks.append(Chunk(start, start + len(t), t, sentences=[(start, start + len(t))], tokens=9, wordpieces=9))
    vecs = np.random.default_rng(seed).standard_normal((len(texts), 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.add_document(Document(source, "txt", text, [Section(0)]), sha256=f"{seed:064x}", size=len(text), mtime=0.0,
                       indexed_at=0.0, chunks=chunks, chunk_vectors=vecs, sentence_vectors=[v[None] for v in vecs])


def _build(index, adds=(), removes=(), rebuild=False):
    from qa.config import ChunkerSettings

    with index.build(ChunkerSettings(), rebuild=rebuild) as build:
        store = build.store()
        for source in removes:
            store.remove_document(source)
        for seed, (source, texts) in enumerate(adds):
            _add_texts(store, source, texts, seed)
        build.commit({"model": "x"})
    return build


def test_pruned_lexical_search_is_the_exact_top_k(pg_server, monkeypatch):
    """The pruned BM25 (impact table, bounded reads) returns what scoring every chunk returns, also after
    incremental builds that move avgdl (stored impacts then off by a known factor) and removals; the impact
    table holds one row per (term, chunk), no more."""
    import random

    import qa.index.store_postgres as sp
    from qa.index.store import open_index
    from qa.index.store_postgres import PostgresIndex

    monkeypatch.setattr(sp, "incompatibility", lambda *a, **kw: None)  # a hand-made manifest
    monkeypatch.setattr(sp, "PRUNE_BATCH", 7)  # several exact-scoring round trips too
    monkeypatch.setattr(sp, "PRUNE_MAX", 16)  # long lists read in several capped reads
    monkeypatch.setattr(sp, "POSTINGS_BLOCK", 4)  # and several blocks
    monkeypatch.setattr(sp, "DELTA_MAX", 1.0)  # the second build below keeps the blocks
    rng = random.Random(0)
    words = (SEEDS / "000_68c7ef664bad3911.txt").read_text().split()
    vocab = list(dict.fromkeys(words))

    def texts(count, lo, hi):
        out = []
        for _ in range(count):  # runs of the article, sprinkled with random words of it
            i, m = rng.randrange(len(words)), rng.randint(lo, hi)
            out.append(" ".join(w if rng.random() < 0.7 else rng.choice(vocab) for w in words[i:i + m]))
        return out

    url = new_database(pg_server)
    index = PostgresIndex(url)
    docs = [(f"d{d}.txt", texts(40, 5, 80)) for d in range(6)]
    _build(index, adds=docs)
    questions = [query_terms(q) for q in QUESTIONS] + [query_terms(" ".join(rng.sample(vocab, rng.randint(1, 6))))
                                                      for _ in range(40)]
    questions += [query_terms(" ".join(rng.sample(vocab, m))) for m in (80, 160)]  # past 52 and 64 terms
    assert len(questions[-2]) > 52 and len(questions[-1]) > 64

    def check(note):
        store, manifest, _ = open_index(url).open()
        assert manifest["stats"]["postings_avgdl"], note
        rounds, fell_back = set(), 0
        for first, at_most in ((1, None), (1, 4), (3, None), (3, 2), (256, None), (256, 16)):
            store.prune_first, store.score_at_most = first, at_most
            for q in questions:
                for k in (1, 5, 20):
                    store.prune = True
                    pruned = store.lexical_search(q, k)
                    rounds.add(store.last_search.get("rounds"))
                    fell_back += bool(store.last_search.get("exhaustive")) and len(q) <= 52  # (160 terms read 16 postings at a time may take 64 round trips)
                    store.prune = False
                    full = store.lexical_search(q, k)
                    assert [i for i, _ in pruned] == [i for i, _ in full], (note, q, k)
                    assert [s for _, s in pruned] == pytest.approx([s for _, s in full], rel=1e-9), (note, q, k)
        assert max(r for r in rounds if r) > 1, note  # the bound did make it read on
        assert not fell_back, note  # never gave up on the bounds
        stats = manifest["stats"]  # counted as the builds went, as a count finds them
        assert [stats["chunks"], stats["terms"], stats["delta_postings"]] == [
            *store._rows("SELECT count(*), sum(n_terms) FROM qa_chunks")[0], store._rows("SELECT count(*) FROM qa_postings")[0][0]], note
        dead = [c for (c,) in store._rows("SELECT chunk_id FROM qa_dead")]
        assert len(dead) == stats["blocks_dead"] and all(c <= stats["blocks_upto"] for c in dead), note
        assert not store._rows("SELECT 1 FROM qa_chunks WHERE id = ANY(%s)", (dead,)), note
        if dead:  # a reader that does not know of the removals: finds them scoring, starts again, still exact
            store._dead, restarts = np.empty(0, dtype=np.int64), 0
            store.prune_first, store.score_at_most = 3, None
            for q in questions:
                store.prune = True
                pruned = store.lexical_search(q, 5)
                restarts += not store.last_search.get("trust_lower", True)
                store.prune = False
                full = store.lexical_search(q, 5)
                assert [i for i, _ in pruned] == [i for i, _ in full], (note, q)
                assert [x for _, x in pruned] == pytest.approx([x for _, x in full], rel=1e-9), (note, q)
            assert restarts, note
        # every (term, chunk) of the live chunks once, in the blocks (best impact first, full rows but the
        # last) or in the rows added since; the blocks may still hold removed chunks
        expected = {(t, c): imp for t, imp, c in store._rows(sp._POSTING_ROWS, {"avgdl": stats["postings_avgdl"]})}
        held, upto = [], stats["blocks_upto"]
        for term in {t for t, _ in expected}:
            blocks = store._rows("SELECT ids, imps FROM qa_blocks WHERE term = %s ORDER BY blk", (term,), binary=True)
            ids = np.concatenate([np.frombuffer(i, ">i8") for i, _ in blocks] or [np.empty(0, int)])
            imps = np.concatenate([np.frombuffer(m, ">f4") for _, m in blocks] or [np.empty(0)])
            assert [len(i) // 8 for i, _ in blocks[:-1]] == [sp.POSTINGS_BLOCK] * (len(blocks) - 1), note
            assert list(zip(imps, ids)) == sorted(zip(imps, ids), reverse=True), note
            assert (ids <= upto).all(), note
            held += [(term, int(c), float(m)) for c, m in zip(ids, imps) if (term, int(c)) in expected]
        delta = store._rows("SELECT term, chunk_id, impact FROM qa_postings")
        assert all(c > upto for _, c, _ in delta), note
        held += delta
        assert len(held) == len(expected), note
        assert {(t, c): pytest.approx(m) for t, c, m in held} == expected, note
        store.close()
        return stats

    first = check("first build")
    made = first["postings_avgdl"]
    assert first["delta_postings"] == first["blocks_dead"] == 0
    # longer chunks: avgdl moves up by less than the rebuild factor, the table is kept, bounds widen; the
    # new chunks' postings are rows, the removed chunks stay in the blocks
    _build(index, adds=[("long.txt", texts(30, 120, 180)), ("short.txt", texts(60, 3, 8))], removes=["d1.txt"])
    second = check("longer chunks added, a document removed")
    assert second["postings_avgdl"] == made and second["blocks_upto"] == first["blocks_upto"]
    assert second["delta_postings"] > 0 and second["blocks_dead"] == 40
    store, _, _ = open_index(url).open()
    assert store._stat("terms") / store.n_chunks > made * 1.05
    within = [i for d in ("d0.txt", "long.txt") for i in store.chunk_ids_of(d)][::3]
    for q in questions[:20]:
        scoped = store.lexical_search(q, 5, within=within)
        assert {i for i, _ in scoped} <= set(within)
        store.prune = False
        assert scoped == [h for h in store.lexical_search(q, 10**6) if h[0] in set(within)][:5]
        store.prune = True
    store.close()
    _build(index, removes=["long.txt"])  # a document of the rows removed: its rows go
    third = check("a document added after the blocks removed")
    assert 0 < third["delta_postings"] < second["delta_postings"] and third["blocks_dead"] == 40
    # many more long chunks: avgdl past the rebuild factor, the table is made again
    _build(index, adds=[("longer.txt", texts(150, 150, 250))], removes=["d2.txt", "d3.txt"])
    fourth = check("avgdl moved past the rebuild factor")
    assert fourth["postings_avgdl"] != made and fourth["delta_postings"] == fourth["blocks_dead"] == 0


def test_making_the_blocks_again_keeps_their_table_at_its_size(pg_server, monkeypatch):
    """A commit that makes the impact blocks again writes them into a new table that takes the old one's
    place: the table stays at the size of what it holds (a rewrite in place would leave the old rows' space
    behind), and a store opened before the commit reads the new table after it."""
    import qa.index.store_postgres as sp
    from qa.index.store import open_index
    from qa.index.store_postgres import PostgresIndex

    monkeypatch.setattr(sp, "incompatibility", lambda *a, **kw: None)  # a hand-made manifest
    monkeypatch.setattr(sp, "DELTA_MAX", 0.0)  # any chunk added: the blocks are made again
    words = (SEEDS / "000_68c7ef664bad3911.txt").read_text().split()
    texts = [" ".join(words[i:i + 60]) for i in range(0, 3000, 30)]
    url = new_database(pg_server)
    index = PostgresIndex(url)
    _build(index, adds=[("a.txt", texts)])
    reader, _, _ = open_index(url).open()
    size = "SELECT pg_total_relation_size('qa_blocks'), (SELECT count(*) FROM qa_blocks)"
    sizes = []
    for turn in range(3):  # the same document removed and added again: the same blocks, new chunk ids
        _build(index, adds=[("b.txt", texts[:40])], removes=["b.txt"] if turn else [])
        sizes.append(reader._rows(size)[0])
        assert sizes[-1] == sizes[0], sizes  # the same rows in as many bytes
        stats = open_index(url).open()[1]["stats"]
        assert stats["delta_postings"] == stats["blocks_dead"] == 0 and stats["blocks_upto"] > 0
        for store in (reader, open_index(url).open()[0]):  # opened before the commit, and after
            store.prune = False
            full = store.lexical_search(query_terms(JAPAN_Q), 5)
            store.prune = True
            pruned = store.lexical_search(query_terms(JAPAN_Q), 5)
            assert full and [i for i, _ in pruned] == [i for i, _ in full]
            assert [x for _, x in pruned] == pytest.approx([x for _, x in full], rel=1e-9)
            assert bool(store.last_search.get("stale")) == (store is reader)  # it knows its blocks are gone
    assert sizes[0][1] > 0
    assert [r[0] for r in reader._rows("SELECT indexname FROM pg_indexes WHERE tablename = 'qa_blocks'")] == ["qa_blocks_pkey"]
    reader.close()


def test_a_failed_build_rolls_back_and_a_second_answerer_sees_each_commit(tmp_path, pg_server, embedder):
    url = new_database(pg_server)
    corpus = tmp_path / "docs"
    shutil.copytree(SEEDS, corpus)
    build_index(corpus, url, embedder=embedder, progress=False)
    reader = Answerer(url, embedder=embedder)  # another server process, in effect
    assert reader.refresh() is False

    class Failing:
        def encode_chunks(self, *a, **kw):
            raise RuntimeError("the embedder broke")

    (corpus / "kyoto.txt").write_text("Kyoto was the capital of Japan for over a thousand years.")
    (corpus / "000_68c7ef664bad3911.txt").unlink()  # removed inside the same failed transaction
    with pytest.raises(RuntimeError, match="broke"):
        build_index(corpus, url, embedder=Failing(), progress=False)
    assert reader.refresh() is False
    assert reader.ask(JAPAN_Q).answer == "$16 billion"  # the deletion was rolled back too
    assert [d.source for d in reader.store.documents()] == ["000_68c7ef664bad3911.txt"]

    report = build_index(corpus, url, embedder=embedder, progress=False)
    assert report.added == ["kyoto.txt"] and report.removed == ["000_68c7ef664bad3911.txt"]
    assert reader.refresh() is True
    answer = reader.ask("Which city was the capital of Japan for over a thousand years?")
    assert answer.citations and answer.citations[0].source == "kyoto.txt"
    assert [d.source for d in reader.store.documents()] == ["kyoto.txt"]


def test_an_incompatible_database_is_refused_then_rebuilt(tmp_path, pg_server, embedder):
    import json

    import psycopg

    url = new_database(pg_server)
    build_index(SEEDS, url, embedder=embedder, progress=False)
    with psycopg.connect(url, autocommit=True) as conn:
        manifest = conn.execute("SELECT value FROM qa_meta WHERE key = 'manifest'").fetchone()[0]
        manifest["model"] = "some/other-model"
        conn.execute("UPDATE qa_meta SET value = %s::jsonb WHERE key = 'manifest'", (json.dumps(manifest),))
    with pytest.raises(IndexIncompatible, match="other-model"):
        Answerer(url, embedder=embedder)
    report = build_index(SEEDS, url, embedder=embedder, progress=False)
    assert report.rebuilt and "other-model" in report.rebuilt and report.chunks_added == report.chunks
    assert Answerer(url, embedder=embedder).ask(JAPAN_Q).answer == "$16 billion"


def test_two_builds_at_once_take_turns(tmp_path, pg_server):
    url = new_database(pg_server)
    corpus = tmp_path / "docs"
    shutil.copytree(SEEDS, corpus)
    (corpus / "kyoto.txt").write_text("Kyoto was the capital of Japan for over a thousand years.")
    env = dict(os.environ, QA_STORE=url, HF_HUB_OFFLINE="1")
    procs = [subprocess.Popen([sys.executable, "-m", "qa", "index", str(corpus), "-q"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("waiting for another 'qa index'" in err for _, err in outs) == 1, outs
    added = sorted(out.split(": ", 1)[1].split(" added")[0] for out, _ in outs)
    assert added == ["0", "2"], outs  # the second saw the first one's commit and had nothing to do
    stats = run_qa("stats", "--store", url, "--json")
    assert stats.returncode == 0 and '"documents": 2' in stats.stdout and "postgresql" in stats.stdout


def test_cli_with_store_and_clear_errors(tmp_path, pg_server):
    url = new_database(pg_server)
    r = run_qa("ask", JAPAN_Q, "--store", url)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "qa index" in r.stderr and "Traceback" not in r.stderr

    r = run_qa("index", SEEDS, "-q", env={"QA_STORE": url})
    assert r.returncode == 0, r.stderr
    assert "1 added" in r.stdout
    r = run_qa("ask", JAPAN_Q, "--json", env={"QA_STORE": url})
    assert r.returncode == 0 and '"answer": "$16 billion"' in r.stdout

    r = run_qa("ask", JAPAN_Q, "--store", "mysql://nowhere/db")
    assert r.returncode == 2 and "postgresql://" in r.stderr and "Traceback" not in r.stderr
    r = run_qa("stats", "--store", "postgresql://qa:secret@127.0.0.1:9/none")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cannot connect" in r.stderr
    assert "secret" not in r.stderr  # the password is never printed


def test_qa_serve_on_postgresql_sees_another_process_indexing(tmp_path, pg_server):
    """Two processes, one database: `qa index --store` adds a document while `qa serve --store` runs."""
    from gradio_client import Client

    url = new_database(pg_server)
    corpus = tmp_path / "docs"
    shutil.copytree(SEEDS, corpus)
    assert run_qa("index", corpus, "-q", "--store", url).returncode == 0
    with serving("--store", url, "--docs", corpus, env={"QA_THREADS": "1"}) as (address, _):
        client = Client(address, verbose=False, analytics_enabled=False)
        assert client.predict(JAPAN_Q, 5, "hybrid", api_name="/ask")["answer"] == "$16 billion"

        (corpus / "kyoto.txt").write_text("Kyoto was the capital of Japan for over a thousand years.")
        assert run_qa("index", corpus, "-q", "--store", url).returncode == 0
        result = client.predict("Which city was the capital of Japan for over a thousand years?", 5, "hybrid",
                                api_name="/ask")
        assert result["citations"] and result["citations"][0]["source"] == "kyoto.txt"
        assert "kyoto.txt" in [d["source"] for d in client.predict(api_name="/documents")]


def test_tsvector_literals_keep_odd_terms_verbatim():
    from qa.index.store_postgres import tsquery_literal, tsvector_literal

    assert tsvector_literal(["o'brien", "a\\b", "x", "o'brien"]) == "'o''brien':1,4 'a\\\\b':2 'x':3"
    assert tsquery_literal(["it's", "3.5"]) == "'it''s' | '3.5'"
    assert tsvector_literal(["z" * 5000, "ok"]) == "'ok':2"  # too long for PostgreSQL: left out


def test_qa_pgserver_starts_a_local_server_for_store(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "qa", "pgserver", str(tmp_path / "pg")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("postgresql://"), proc.stderr.read() if proc.poll() is not None else url
        r = run_qa("stats", "--store", url)  # a real server that has no index yet
        assert r.returncode == 2 and "no index in" in r.stderr and "qa index" in r.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert (tmp_path / "pg" / "PG_VERSION").exists()
    assert not (tmp_path / "pg" / "postmaster.pid").exists(), "stopping qa pgserver must stop PostgreSQL"


@pytest.mark.parametrize("where", ["embedded", "postgresql"])
def test_both_stores_keep_a_pages_ocr_mark_and_confidence(tmp_path, pg_server, where):
    from qa.config import ChunkerSettings
    from qa.index.store import open_index
    from qa.ingest.chunker import Chunk
    from qa.ingest.documents import Document, Section

    location = tmp_path / "index" if where == "embedded" else new_database(pg_server)
    text = "A typed page. A scanned page read by OCR."
    doc = Document("scan.pdf", "pdf", text, sections=[Section(0, page=1), Section(14, page=2, ocr=True, confidence=0.875)])
    vec = np.eye(1, 384, dtype=np.float32)
    index = open_index(location)
    with index.build(ChunkerSettings()) as build:
        build.store().add_document(doc, sha256="s", size=1, mtime=0.0, indexed_at=0.0,
                                   chunks=[Chunk(0, len(text), text, sentences=[(0, len(text))])],
                                   chunk_vectors=vec, sentence_vectors=[vec])
        build.commit({"corpus": "test", "documents": 1, "chunks": 1, **expected_settings()})
    store, _, _ = index.open()
    try:
        doc_id = store.documents()[0].id
        assert store.sections(doc_id) == [Section(0, page=1), Section(14, page=2, ocr=True, confidence=0.875)]
    finally:
        store.close()
        index.close()
