import json

import pytest

from qa import Answerer, build_index
from qa.errors import QAError

from .conftest import JAPAN_Q, OFF_TOPIC_Q, SEEDS, run_qa
from .fixtures import make_corpus


def slice_of(answerer, citation):
    return answerer.document_text(citation.source)[citation.start:citation.end]


def test_seed_question_is_answered_verbatim_with_an_exact_citation(store_answerer):
    answer = store_answerer.ask(JAPAN_Q, k=5)
    assert answer.answer is not None and "$16 billion" in answer.answer
    assert answer.answer_type == "number"
    cite = answer.citations[0]
    assert cite.source == "000_68c7ef664bad3911.txt"
    assert slice_of(store_answerer, cite) == answer.answer == cite.text
    assert cite.sentence_start <= cite.start < cite.end <= cite.sentence_end
    assert store_answerer.document_text(cite.source)[cite.sentence_start:cite.sentence_end] == cite.sentence
    assert "economic assistance" in cite.sentence
    assert 0.0 <= answer.confidence <= 1.0 and answer.confidence >= store_answerer.threshold
    assert 1 <= len(answer.passages) <= 5


def test_off_topic_question_is_not_answered_but_lists_passages(store_answerer):
    answer = store_answerer.ask(OFF_TOPIC_Q)
    assert answer.answer is None and answer.citations == []
    assert answer.confidence < store_answerer.threshold
    assert answer.passages


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_retrieval_mode_finds_the_seed_answer(store_answerer, mode):
    answer = store_answerer.ask(JAPAN_Q, mode=mode)
    assert answer.mode == mode and answer.answer == "$16 billion"


def test_an_untyped_question_is_answered_by_an_exact_quote_inside_its_sentence(store_answerer):
    answer = store_answerer.ask("Why did Japan's prime minister change her tone towards Russia?")
    assert answer.answer_type is None
    if answer.found:  # the trained reader quotes a span of one sentence, exactly
        c = answer.citations[0]
        assert c.sentence_start <= c.start < c.end <= c.sentence_end
        assert slice_of(store_answerer, c) == answer.answer


@pytest.mark.parametrize("bad", ["", "   \n\t ", "\x00\x01\x02"])
def test_empty_questions_are_refused_with_a_message(store_answerer, bad):
    with pytest.raises(QAError, match="empty"):
        store_answerer.ask(bad)


def test_a_huge_question_gets_a_notice_not_a_crash(store_answerer):
    answer = store_answerer.ask("What about Japan and Ukraine? " * 400)
    assert answer.notice


def test_pdf_markdown_and_html_answers_cite_page_and_section(tmp_path, embedder, location):
    corpus = make_corpus(tmp_path / "docs")
    build_index(corpus, location, embedder=embedder, progress=False)
    # threshold 0: this is about where citations point; the glacier answer, right, is given confidence ~0.3
    answerer = Answerer(location, embedder=embedder, threshold=0)

    a = answerer.ask("By 2007 the Aral Sea had declined to what share of its original size?")
    assert a.citations[0].source == "aral.pdf" and a.citations[0].page == 2
    assert "10 percent" in a.answer and slice_of(answerer, a.citations[0]) == a.answer

    a = answerer.ask("When was Solar Orbiter launched?")
    assert a.citations[0].source == "notes/solar.md" and a.citations[0].section == "Launch"
    assert "February 2020" in a.answer and slice_of(answerer, a.citations[0]) == a.answer

    a = answerer.ask("How large an area does the Perito Moreno Glacier cover?")
    assert a.citations[0].source == "glaciers.html" and a.citations[0].section == "Size"
    assert "250 square kilometres" in a.answer and slice_of(answerer, a.citations[0]) == a.answer


# --- the command line, in real subprocesses --------------------------------------------------------------


def test_cli_index_then_ask_json_fully_offline(tmp_path):
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TIKTOKEN_CACHE_DIR": str(cache),
           "HF_HOME": str(tmp_path / "hf-home"), "NO_PROXY": "*", "HTTPS_PROXY": "http://127.0.0.1:9"}
    index = tmp_path / "index"
    r = run_qa("index", SEEDS, "--index", index, "--quiet", env=env)
    assert r.returncode == 0, r.stderr
    assert "1 added" in r.stdout and "chunks" in r.stdout

    r = run_qa("ask", JAPAN_Q, "--json", "--index", index, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # exactly one JSON object
    assert set(out) >= {"question", "answer", "confidence", "citations", "passages"}
    cite = out["citations"][0]
    assert set(cite) >= {"source", "page", "start", "end", "text"}
    text = (SEEDS / cite["source"]).read_text()
    assert "$16 billion" in out["answer"]
    # the seed is plain UTF-8 text: the extracted text is the file itself
    assert text[cite["start"]:cite["end"]] == out["answer"]
    assert list(cache.iterdir()) == [], "nothing may be downloaded or cached"

    r = run_qa("index", SEEDS, "--index", index, env=env)  # unchanged: quick, no model
    assert r.returncode == 0 and "0 added, 0 updated, 0 removed, 1 unchanged" in r.stdout


def test_cli_reads_questions_from_stdin_and_prints_human_output(seed_index):
    r = run_qa("ask", "-", "--json", "--index", seed_index, input=f"{JAPAN_Q}\n\n{OFF_TOPIC_Q}\n")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["answer"] for x in lines] == ["$16 billion", None]

    r = run_qa("ask", JAPAN_Q, "--index", seed_index)
    assert r.returncode == 0
    assert "Answer: $16 billion" in r.stdout and "[1] 000_68c7ef664bad3911.txt" in r.stdout
    r = run_qa("ask", OFF_TOPIC_Q, "--index", seed_index)
    assert "Not found in the documents" in r.stdout and "Closest passages" in r.stdout

    r = run_qa("ask", JAPAN_Q, "--json", "--rerank", "6", "--index", seed_index)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["answer"] == "$16 billion"


def test_cli_stats(seed_index):
    r = run_qa("stats", "--json", "--index", seed_index)
    assert r.returncode == 0
    stats = json.loads(r.stdout)
    assert stats["documents"] == 1 and stats["chunks"] > 5 and stats["bytes_on_disk"] > 0
    assert stats["model"] == "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.parametrize(
    "args,message",
    [
        (["ask", "anything", "--index", "{tmp}/no-index"], "no index"),
        (["ask", "   ", "--index", "{seed}"], "empty"),
        (["index", "{tmp}/no-such-folder", "--index", "{tmp}/i"], "does not exist"),
        (["stats", "--index", "{tmp}/no-index"], "no index"),
    ],
)
def test_cli_user_errors_print_one_line_and_exit_non_zero(tmp_path, seed_index, args, message):
    args = [a.format(tmp=tmp_path, seed=seed_index) for a in args]
    r = run_qa(*args)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]


def test_cli_help_on_every_command():
    for cmd in ([], ["index"], ["ask"], ["stats"]):
        r = run_qa(*cmd, "--help")
        assert r.returncode == 0 and "usage: qa" in r.stdout


def test_human_output_never_sends_control_sequences_to_the_terminal(answerer):
    from dataclasses import replace

    from qa.cli import format_answer

    answer = answerer.ask(JAPAN_Q)
    answer.citations[0] = replace(answer.citations[0], sentence="red \x1b[31mtext\x1b]0;title\x07 end\r")
    out = format_answer(answer)
    assert "$16 billion" in out and "red \ufffd[31mtext" in out
    assert not any(ord(c) < 32 and c not in "\n\t" for c in out)


def test_hybrid_retrieval_rescores_the_best_fused_passages_by_their_best_sentence(store_answerer):
    """Both stores give the sentence vectors the second stage needs; it reorders the fused passages."""
    import numpy as np

    from qa.answer.fusion import scale_minmax
    from qa.answer.retriever import Retriever
    from qa.answer.types import Query
    from qa.ingest.lexical import query_terms

    store, changed = store_answerer.store, 0
    for question in (JAPAN_Q, "Who is the foreign minister of Japan?", "What did Russian aircraft do?",
                     "Why did Japan's prime minister change her tone towards Russia?", "Where was the conference?"):
        query = Query(question, query_terms(question), store_answerer.embedder.encode_queries([question])[0])
        fused = Retriever(store, depth=100, fusion="minmax", fusion_weight=0.45).run(query, n=30, mode="hybrid")
        rescored = Retriever(store, depth=100, fusion="minmax", fusion_weight=0.45, sentence_rescore=30).run(
            query, n=30, mode="hybrid")
        assert sorted(c.chunk_id for c in rescored) == sorted(c.chunk_id for c in fused)  # the seed: < 30 chunks
        # each score: 0.05 cosine + 0.40 best sentence + 0.55 BM25, each min-max scaled over the candidates
        best = np.array([float(np.max(c.chunk.sentence_vectors @ query.vector)) for c in rescored])
        cosine = scale_minmax(np.array([c.dense_score for c in rescored]))
        bm25 = scale_minmax(np.array([c.lexical_score or 0.0 for c in rescored]))
        expected = 0.05 * cosine + 0.40 * scale_minmax(best) + 0.55 * bm25
        assert [c.score for c in rescored] == pytest.approx(expected.tolist(), abs=1e-6)
        assert [c.score for c in rescored] == sorted((c.score for c in rescored), reverse=True)
        changed += [c.chunk_id for c in rescored] != [c.chunk_id for c in fused]
    assert changed  # the sentences moved some passage on some question
