"""What only the PostgreSQL store has to show: same rankings as the embedded store, transactions,
several processes sharing one database, and the command line with --store / QA_STORE.

The engine's own tests (test_ask, test_index) already run against both stores.
"""

import os
import shutil
import subprocess
import sys

import pytest

from qa import Answerer, build_index
from qa.errors import IndexIncompatible
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


def test_both_stores_rank_and_answer_alike(both, embedder):
    embedded, postgres = both
    assert postgres.store.n_chunks == embedded.store.n_chunks > 5
    for question in QUESTIONS:
        terms = query_terms(question)
        lex_e = embedded.store.lexical_search(terms, 5)
        lex_p = postgres.store.lexical_search(terms, 5)
        assert places(embedded.store, lex_e) == places(postgres.store, lex_p), question
        assert [round(s, 4) for _, s in lex_e] == pytest.approx([round(s, 4) for _, s in lex_p], rel=1e-3)
        qvec = embedder.encode_queries([question])[0]
        dense_e = embedded.store.dense_search(qvec, 5)
        dense_p = postgres.store.dense_search(qvec, 5)
        assert places(embedded.store, dense_e) == places(postgres.store, dense_p), question
        assert [s for _, s in dense_e] == pytest.approx([s for _, s in dense_p], abs=1e-4)
        a, b = embedded.ask(question), postgres.ask(question)
        assert (a.answer, [(c.source, c.start, c.end) for c in a.citations]) == \
               (b.answer, [(c.source, c.start, c.end) for c in b.citations]), question


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
