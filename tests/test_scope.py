"""Asking within some documents only: ``Answerer.ask(scope=...)``, ``qa ask --doc``, ``qa eval --scope``."""

import json

import pytest

from qa import Answerer, build_index
from qa.errors import QAError

from .conftest import run_qa
from .fixtures import make_corpus

GLACIER_Q = "How large an area does the Perito Moreno Glacier cover?"


@pytest.fixture
def corpus_answerer(tmp_path, embedder, location):
    corpus = make_corpus(tmp_path / "docs")
    build_index(corpus, location, embedder=embedder, progress=False)
    return Answerer(location, embedder=embedder, threshold=0)  # where answers come from, not how sure


def test_a_scope_keeps_every_passage_and_citation_inside_its_documents(corpus_answerer):
    everywhere = corpus_answerer.ask(GLACIER_Q, n_passages=10)
    assert everywhere.citations[0].source == "glaciers.html"
    assert {p.source for p in everywhere.passages} == {"glaciers.html", "aral.pdf", "notes/solar.md"}
    assert everywhere.scope is None

    scoped = corpus_answerer.ask(GLACIER_Q, scope=["aral.pdf"], n_passages=10)
    assert scoped.passages and {p.source for p in scoped.passages} == {"aral.pdf"}
    assert all(c.source == "aral.pdf" for c in scoped.citations)
    assert scoped.scope == ["aral.pdf"] and scoped.to_dict()["scope"] == ["aral.pdf"]


@pytest.mark.parametrize("pattern", ["notes/solar.md", "*.md", "solar.md", "notes/*"])
def test_a_scope_is_a_name_or_a_glob(corpus_answerer, pattern):
    answer = corpus_answerer.ask("When was Solar Orbiter launched?", scope=[pattern], n_passages=10)
    assert {p.source for p in answer.passages} == {"notes/solar.md"}
    assert "February 2020" in answer.answer


def test_several_documents_and_every_mode(corpus_answerer):
    for mode in ("dense", "bm25", "hybrid"):
        answer = corpus_answerer.ask(GLACIER_Q, scope=["glaciers.html", "aral.pdf"], mode=mode, n_passages=10)
        assert {p.source for p in answer.passages} <= {"glaciers.html", "aral.pdf"}
        assert answer.citations[0].source == "glaciers.html", mode


def test_a_scope_that_names_no_document_is_refused(corpus_answerer):
    with pytest.raises(QAError, match="no indexed document matches 'missing.pdf'"):
        corpus_answerer.ask(GLACIER_Q, scope=["missing.pdf"])


def test_cli_ask_doc(tmp_path, embedder):
    corpus = make_corpus(tmp_path / "docs")
    index = tmp_path / "index"
    build_index(corpus, index, embedder=embedder, progress=False)
    r = run_qa("ask", GLACIER_Q, "--doc", "aral.pdf", "--doc", "notes/*", "--json", "--index", index)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["scope"] == ["aral.pdf", "notes/*"]
    assert {p["source"] for p in out["passages"]} <= {"aral.pdf", "notes/solar.md"}
    r = run_qa("ask", GLACIER_Q, "--doc", "nothing.txt", "--index", index)
    assert r.returncode == 2 and r.stderr.strip() == "qa: error: no indexed document matches 'nothing.txt'"
