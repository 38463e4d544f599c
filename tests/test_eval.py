"""`qa eval`: the SQuAD metrics on hand-computed cases, the corpus writer, and small real evaluations."""

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.answer.results import Answer, Citation
from qa.errors import QAError
from qa.evaluation.metrics import (
    citation_hit,
    exact_match,
    f1,
    f1_one,
    first_hit_rank,
    normalize_answer,
    passage_hit,
    percentile,
    recall_at,
    sentence_hit,
    sentence_in_paragraph_hit,
)
from qa.evaluation.squad import (
    PARAGRAPH_SEPARATOR,
    document_texts,
    load_squad,
    sample_questions,
    write_corpus,
)

from .conftest import run_qa

DATA = Path(__file__).resolve().parent / "data"
V1_SLICE = DATA / "squad-v1.1-dev-slice.json"
V2_SLICE = DATA / "squad-v2.0-dev-slice.json"
REQUIRED_KEYS = ("questions", "recall@1", "recall@5", "recall@20", "em", "f1", "sentence_accuracy",
                 "citation_accuracy", "latency_p50_ms", "latency_p95_ms", "build_seconds")


# --- normalization, EM, F1 ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("The Denver Broncos!", "denver broncos"),
    ("  an apple,  a pear & the end. ", "apple pear end"),
    ("Theatre and Anne", "theatre and anne"),  # articles only as whole words
    ("A", ""),
    ("U.S.-based", "usbased"),  # punctuation is removed, not turned into spaces
    ("\u201cSaint\u201d Bernard", "\u201csaint\u201d bernard"),  # only ASCII punctuation, as the official script
])
def test_official_squad_normalization(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_is_after_normalization_and_max_over_golds():
    assert exact_match("the Denver Broncos.", ["Carolina Panthers", "Denver Broncos"]) == 1.0
    assert exact_match("Denver", ["Denver Broncos"]) == 0.0


def test_f1_on_partial_overlap():
    # pred tokens {big, red, dog} vs gold {red, dog, barked}: 2 shared, P = R = 2/3
    assert f1("the big red dog", ["red dog barked"]) == pytest.approx(2 / 3)
    # P = 1/2, R = 1 -> F1 = 2/3
    assert f1_one("Denver Broncos", "Broncos") == pytest.approx(2 / 3)
    # repeated tokens count as often as they occur in both: red x min(2,1) + blue x min(1,2) = 2 of 3
    assert f1_one("red red blue", "red blue blue") == pytest.approx(2 / 3)
    assert f1("Panthers", ["Denver Broncos"]) == 0.0
    # max over golds, not mean: 2/3 with the first, 1.0 with the second
    assert f1("Denver Broncos", ["Broncos", "the Denver Broncos"]) == 1.0
    # P = 1/3, R = 1/2 -> 2 * (1/6) / (5/6) = 0.4
    assert f1("Denver won easily", ["Denver lost"]) == pytest.approx(0.4)


def test_not_found_scores_zero_on_answerable_and_one_on_impossible():
    assert exact_match(None, ["Denver Broncos"]) == 0.0 and f1(None, ["Denver Broncos"]) == 0.0
    assert exact_match(None, []) == 1.0 and f1(None, []) == 1.0  # SQuAD 2.0: gold [""]
    assert exact_match("Denver", []) == 0.0 and f1("Denver", []) == 0.0
    assert f1("", ["the"]) == 1.0  # both normalize to no tokens (SQuAD 2.0 rule)


# --- where passages and citations stand ------------------------------------------------------------------


@dataclass
class P:
    source: str
    start: int
    end: int
    text: str


GOLD = ("a.txt", 100, 200, ["Paris"])  # source, paragraph range, gold answers


def test_recall_counts_a_passage_only_in_the_gold_paragraph_with_the_answer():
    source, start, end, golds = GOLD
    passages = [
        P("b.txt", 100, 200, "Paris is in another document"),  # answer text, wrong document
        P("a.txt", 300, 400, "Paris again, later in a.txt"),  # answer text outside the gold paragraph
        P("a.txt", 200, 300, "Paris right after the paragraph"),  # touches the range end: no overlap
        P("a.txt", 150, 250, "the capital is paris"),  # overlaps, but only a lower-case variant
        P("a.txt", 150, 250, "the capital is Paris"),  # overlaps and holds the answer: the hit
        P("a.txt", 0, 120, "Paris"),
    ]
    hits = [passage_hit(p, source, start, end, golds) for p in passages]
    assert hits == [False, False, False, False, True, True]
    assert first_hit_rank(passages, source, start, end, golds) == 5
    assert first_hit_rank(passages[:4], source, start, end, golds) is None


def test_recall_at_k_from_first_hit_ranks():
    ranks = [1, 3, None, 20, 2]
    assert recall_at(ranks, 1) == 0.2
    assert recall_at(ranks, 3) == 0.6
    assert recall_at(ranks, 19) == 0.6
    assert recall_at(ranks, 20) == 0.8
    assert recall_at([], 5) == 0.0


def _answer(text, source="a.txt", start=150, end=155, sentence="The capital is Paris.", s_start=135, s_end=156):
    if text is None:
        return Answer("q", None, 0.1, [], [])
    return Answer("q", text, 0.9, [Citation(source, None, None, start, end, text, sentence, s_start, s_end)], [])


def test_sentence_and_citation_accuracy():
    source, start, end, golds = GOLD
    good = _answer("Paris")
    assert sentence_hit(good, golds) and sentence_in_paragraph_hit(good, source, start, end, golds)
    assert citation_hit(good, source, start, end)
    # right sentence, but the span cited spills out of the gold paragraph
    spill = _answer("Paris", start=195, end=205, s_start=180, s_end=210)
    assert sentence_hit(spill, golds) and not citation_hit(spill, source, start, end)
    # a sentence holding the answer text in another document: sentence accuracy yes, in-paragraph no
    elsewhere = _answer("Paris", source="b.txt")
    assert sentence_hit(elsewhere, golds)
    assert not sentence_in_paragraph_hit(elsewhere, source, start, end, golds)
    assert not citation_hit(elsewhere, source, start, end)
    # a span inside the paragraph whose sentence lacks the answer
    wrong = _answer("France", sentence="It lies in France.")
    assert not sentence_hit(wrong, golds) and citation_hit(wrong, source, start, end)
    # "not found" is never a hit
    none = _answer(None)
    assert not sentence_hit(none, golds) and not citation_hit(none, source, start, end)


def test_percentile_matches_linear_interpolation():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


# --- reading SQuAD and writing the corpus ----------------------------------------------------------------


def test_load_plain_and_gzipped_and_write_articles_with_exact_paragraph_ranges(tmp_path):
    gz = tmp_path / "slice.json.gz"
    gz.write_bytes(gzip.compress(V1_SLICE.read_bytes()))
    plain, zipped = load_squad(V1_SLICE), load_squad(gz)
    assert len(plain.questions) == len(zipped.questions) == 99
    assert len(plain.titles) == 2 and len(plain.paragraphs) == 10 and not plain.v2

    docs = write_corpus(plain, tmp_path / "corpus")
    assert sorted(docs) == ["000_warsaw.txt", "001_amazon-rainforest.txt"]
    for p in plain.paragraphs:
        text = (tmp_path / "corpus" / p.source).read_bytes().decode("utf-8")
        assert text[p.start:p.end] == p.context
    first, second = plain.paragraphs[0], plain.paragraphs[1]
    assert docs[first.source][first.end:second.start] == PARAGRAPH_SEPARATOR
    for q in plain.questions:  # every gold answer lies in its paragraph
        assert all(a in q.paragraph.context for a in q.answers)


def test_paragraph_layout_writes_one_file_per_paragraph():
    squad = load_squad(V1_SLICE)
    docs = document_texts(squad, "paragraph")
    assert len(docs) == 10
    assert all(docs[p.source] == p.context and p.start == 0 for p in squad.paragraphs)


def test_squad2_impossible_questions_have_no_gold_answers():
    squad = load_squad(V2_SLICE)
    impossible = [q for q in squad.questions if q.impossible]
    assert squad.v2 and impossible and len(impossible) < len(squad.questions)
    assert all(q.answers == [] for q in impossible)


def test_sample_is_seeded_in_file_order_and_matches_numpy_choice():
    import numpy as np

    qs = load_squad(V1_SLICE).questions
    picked = sample_questions(qs, 10, seed=3)
    assert picked == sample_questions(qs, 10, seed=3) and picked != sample_questions(qs, 10, seed=4)
    expected = sorted(np.random.default_rng(3).choice(len(qs), 10, replace=False))
    assert [q.order for q in picked] == expected
    assert sample_questions(qs, None) == qs and sample_questions(qs, 10_000) == qs


@pytest.mark.parametrize("content, message", [
    (b"not json", "not JSON"),
    (b'{"version": "1.1"}', "not in SQuAD format"),
    (b'{"data": [{"title": "x", "paragraphs": [{"qas": []}]}]}', "missing or wrong field"),
])
def test_files_that_are_not_squad_are_refused(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(QAError, match=message):
        load_squad(bad)


# --- small real evaluations ------------------------------------------------------------------------------


def test_cli_eval_json_on_the_two_article_slice(tmp_path):
    details = tmp_path / "details.jsonl"
    # the threshold these figures were set for (the default now refuses more: see the calibration checks)
    r = run_qa("eval", V1_SLICE, "--mode", "all", "--limit", "30", "--seed", "1", "--json", "-q", "--threshold", "0.3",
               "--details", details, timeout=600)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)  # exactly one JSON object on stdout
    assert "| mode |" in r.stderr  # the table went to stderr
    for key in REQUIRED_KEYS:
        assert key in result
    assert result["mode"] == "hybrid" and set(result["by_mode"]) == {"hybrid", "dense", "bm25"}
    assert result["documents"] == 2 and result["chunks"] >= 2 and result["build_seconds"] > 0
    for mode, m in result["by_mode"].items():
        assert m["questions"] == 30
        for key in ("recall@1", "recall@5", "recall@20", "em", "f1", "sentence_accuracy", "citation_accuracy"):
            assert 0.0 <= m[key] <= 1.0, (mode, key)
        assert m["recall@1"] <= m["recall@5"] <= m["recall@20"]
        assert m["recall_curve"][0] == m["recall@1"] and m["recall_curve"][4] == m["recall@5"]
        assert m["recall@5"] >= 0.9, mode  # two documents: the right passage is near the top
        assert m["em"] <= m["f1"]
        assert m["citation_accuracy"] >= 0.5 and m["sentence_accuracy"] >= 0.5, mode
        assert 0 < m["latency_p50_ms"] <= m["latency_p95_ms"]
        assert m["latency_ms"]["search"]["p50"] < m["latency_p95_ms"]
        # calibration: ten bins holding every question; ECE re-adds from the table
        bins = m["reliability"]
        assert len(bins) == 10 and sum(b["questions"] for b in bins) == 30
        ece = sum(b["questions"] / 30 * abs(b["accuracy"] - b["mean_confidence"]) for b in bins if b["questions"])
        assert m["ece"] == pytest.approx(ece, abs=1e-3) and 0.0 <= m["aurc"] <= 1.0
        assert 0.0 <= m["answered"] <= 1.0 and (m["answered_accuracy"] is None or 0 <= m["answered_accuracy"] <= 1)
        # by form of question: every question in one form, and the F1s re-add to the mode's
        forms = m["by_question_form"]
        assert sum(f["questions"] for f in forms.values()) == 30
        assert sum(f["questions"] * f["f1"] for f in forms.values()) / 30 == pytest.approx(m["f1"], abs=1e-3)
        assert all(f["f1"] <= f["span_f1"] + 1e-9 for f in forms.values())  # a threshold only takes answers away
    assert "| hybrid | what |" in r.stderr

    # the per-question lines re-add to the reported figures
    lines = [json.loads(line) for line in details.read_text().splitlines()]
    assert len(lines) == 90
    hybrid = [x for x in lines if x["mode"] == "hybrid"]
    assert sum(x["em"] for x in hybrid) / 30 == pytest.approx(result["em"], abs=1e-4)
    right = [x["answer"] is not None and x["f1"] >= 0.5 for x in hybrid]
    answered = sum(x["answer"] is not None for x in hybrid)
    assert result["answered"] == pytest.approx(answered / 30, abs=1e-4)
    if answered:
        assert result["answered_accuracy"] == pytest.approx(sum(right) / answered, abs=1e-4)
    assert sum(x["rank"] is not None and x["rank"] <= 5 for x in hybrid) / 30 == pytest.approx(result["recall@5"])
    for x in hybrid:
        if x["em"] == 1.0:
            assert normalize_answer(x["answer"]) in {normalize_answer(g) for g in x["gold"]}


def test_squad2_eval_reports_not_found_precision_and_recall_and_reuses_the_index(tmp_path, embedder):
    from qa.evaluation.harness import run_eval
    from qa.settings import Settings

    workdir = tmp_path / "scratch"
    first = run_eval(V2_SLICE, modes=["bm25"], index_dir=workdir, progress=False, embedder=embedder,
                     details=tmp_path / "d.jsonl", settings=Settings(reader="heuristic"))
    assert first["reader"] == "heuristic"
    squad = load_squad(V2_SLICE)
    n_imp = sum(q.impossible for q in squad.questions)
    assert first["squad2"] and first["questions"] == 50 and first["impossible"] == n_imp
    assert first["answerable"] == 50 - n_imp
    for key in ("noanswer_precision", "noanswer_recall"):
        assert first[key] is None or 0.0 <= first[key] <= 1.0
    lines = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text().splitlines()]
    not_found = [x for x in lines if x["answer"] is None]
    right = sum(x["impossible"] for x in not_found)
    assert first["noanswer_recall"] == pytest.approx(right / n_imp, abs=1e-4)
    if not_found:
        assert first["noanswer_precision"] == pytest.approx(right / len(not_found), abs=1e-4)
    # EM over all questions = answerable EM share + impossible questions answered "not found"
    assert first["em"] == pytest.approx((first["em_answerable"] * first["answerable"] + right) / 50, abs=1e-3)
    assert not first["build_reused"]

    again = run_eval(V2_SLICE, modes=["bm25"], limit=5, index_dir=workdir, progress=False, embedder=embedder)
    assert again["build_reused"] and again["chunks"] == first["chunks"]
    assert again["build_seconds"] == first["build_seconds"] and again["questions"] == 5


def test_eval_refuses_to_write_into_a_foreign_folder(tmp_path):
    from qa.evaluation.harness import run_eval

    (tmp_path / "mine.txt").write_text("my notes")
    with pytest.raises(QAError, match="not made by 'qa eval'"):
        run_eval(V1_SLICE, index_dir=tmp_path, progress=False)
    assert (tmp_path / "mine.txt").read_text() == "my notes"


@pytest.mark.parametrize("args, message", [
    (["eval", "no-such-file.json"], "cannot read"),
    (["eval", str(V1_SLICE), "--mode", "fuzzy"], "unknown mode"),
])
def test_cli_eval_user_errors(args, message):
    r = run_qa(*args)
    assert r.returncode == 2 and message in r.stderr


def test_eval_scope_article_asks_each_question_of_its_own_article(tmp_path, embedder):
    from qa.evaluation.harness import run_eval

    details = tmp_path / "d.jsonl"
    common = dict(modes=["bm25"], limit=12, index_dir=tmp_path / "scratch", progress=False, embedder=embedder)
    open_ = run_eval(V1_SLICE, **common)
    result = run_eval(V1_SLICE, **common, details=details, scope="article")
    assert result["scope"] == "article" and open_["scope"] is None and result["questions"] == 12
    lines = [json.loads(x) for x in details.read_text().splitlines()]
    assert all(x["source"] in (None, x["gold_source"]) for x in lines)
    # BM25 keeps the whole index's statistics: inside its own article the gold passage can only rank higher
    for k in (1, 5, 20):
        assert result[f"recall@{k}"] >= open_[f"recall@{k}"], k
    with pytest.raises(QAError, match="needs --layout article"):
        run_eval(V1_SLICE, modes=["bm25"], limit=2, progress=False, embedder=embedder, scope="article",
                 layout="paragraph")


def test_eval_with_reranking_reports_the_rerank_stage(tmp_path, embedder):
    from qa.evaluation.harness import format_table, run_eval
    from qa.settings import Settings

    result = run_eval(V1_SLICE, modes=["hybrid"], limit=6, seed=1, progress=False, embedder=embedder,
                      settings=Settings(rerank=4), index_dir=tmp_path / "scratch")
    assert result["rerank"] == 4 and result["latency_ms"]["rerank"]["p50"] > 0
    assert result["latency_ms"]["rerank"]["p50"] < result["latency_p50_ms"]
    assert "Reranked the first 4 passages with the span reader" in format_table(result)
