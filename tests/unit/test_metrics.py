"""qa.evaluation.metrics: SQuAD EM / F1 and the retrieval and citation hit rules, by hand."""

from dataclasses import dataclass, field

import numpy as np
import pytest

from qa.evaluation.metrics import (
    citation_hit,
    contains_any,
    exact_match,
    f1,
    first_hit_rank,
    normalize_answer,
    overlaps,
    passage_hit,
    percentile,
    recall_at,
    sentence_hit,
    sentence_in_paragraph_hit,
)


@pytest.mark.parametrize(("text", "normalized"), [
    ("The Cat!", "cat"),
    ("  The  Bank-of Japan's ", "bankof japans"),  # punctuation removed, not replaced by a space
    ("an apple a day", "apple day"),
    ("Theatre and anthem", "theatre and anthem"),  # articles only as whole words
    ("$16 billion.", "16 billion"),
    ("", ""),
])
def test_normalize_answer(text, normalized):
    assert normalize_answer(text) == normalized


def test_exact_match():
    assert exact_match("The Cat!", ["cat"]) == 1.0
    assert exact_match("cats", ["cat"]) == 0.0
    assert exact_match("Paris", ["London", "paris."]) == 1.0  # max over the golds
    assert exact_match(None, ["Paris"]) == 0.0  # not found is ""
    assert exact_match(None, []) == 1.0  # empty golds mean [""]: an impossible question
    assert exact_match(None, [""]) == 1.0
    assert exact_match("Paris", []) == 0.0


def test_f1_by_hand():
    # pred tokens [cat, sat, on, mat], gold [cat, on, mat]: 3 shared, P = 3/4, R = 1, F1 = 6/7
    assert f1("the cat sat on the mat", ["a cat on a mat"]) == pytest.approx(6 / 7)
    # repeated tokens count once per match: [x, x, y] vs [x, y]: 2 shared, P = 2/3, R = 1, F1 = 0.8
    assert f1("x x y", ["x y"]) == pytest.approx(0.8)
    assert f1("x y", ["x x y"]) == pytest.approx(0.8)
    assert f1("red car", ["blue bike"]) == 0.0


def test_f1_takes_the_best_gold():
    # vs "new york": 2 shared, P = 2/3, R = 1 -> 0.8; vs "york": 1 shared, P = 1/3, R = 1 -> 0.5
    assert f1("new york city", ["york", "New York"]) == pytest.approx(0.8)


def test_f1_not_found_and_empty_golds():
    assert f1(None, ["Paris"]) == 0.0
    assert f1(None, []) == 1.0
    assert f1(None, [""]) == 1.0
    assert f1("Paris", [""]) == 0.0
    assert f1("the", ["a"]) == 1.0  # both normalize to no tokens


def test_overlaps_is_half_open():
    assert overlaps(0, 10, 9, 20) is True
    assert overlaps(0, 10, 10, 20) is False  # touching ranges share no character
    assert overlaps(10, 20, 0, 10) is False
    assert overlaps(5, 6, 0, 100) is True
    assert overlaps(0, 100, 5, 6) is True


def test_contains_any_is_case_sensitive_and_ignores_empty_golds():
    assert contains_any("the US said", ["US"]) is True
    assert contains_any("all of us", ["US"]) is False
    assert contains_any("anything", [""]) is False


@dataclass
class P:  # a retrieved passage: .source .start .end .text
    source: str
    start: int
    end: int
    text: str


GOLD = ("doc.txt", 100, 200)  # the gold paragraph: source, [start, end)


def test_passage_hit_needs_document_overlap_and_answer():
    assert passage_hit(P("doc.txt", 150, 250, "... Paris ..."), *GOLD, ["Paris"]) is True
    assert passage_hit(P("other.txt", 150, 250, "... Paris ..."), *GOLD, ["Paris"]) is False  # other document
    assert passage_hit(P("doc.txt", 200, 300, "... Paris ..."), *GOLD, ["Paris"]) is False  # no overlap
    assert passage_hit(P("doc.txt", 150, 250, "... paris ..."), *GOLD, ["Paris"]) is False  # case-sensitive
    assert passage_hit(P("doc.txt", 0, 101, "Paris"), *GOLD, ["London", "Paris"]) is True


def test_first_hit_rank_is_one_based():
    passages = [
        P("other.txt", 100, 200, "Paris"),
        P("doc.txt", 0, 50, "Paris"),
        P("doc.txt", 120, 180, "Paris"),
        P("doc.txt", 130, 190, "Paris"),
    ]
    assert first_hit_rank(passages, *GOLD, ["Paris"]) == 3
    assert first_hit_rank(passages[:2], *GOLD, ["Paris"]) is None
    assert first_hit_rank([], *GOLD, ["Paris"]) is None


def test_recall_at():
    ranks = [1, 3, None, 2]
    assert recall_at(ranks, 1) == 0.25
    assert recall_at(ranks, 2) == 0.5
    assert recall_at(ranks, 3) == 0.75
    assert recall_at(ranks, 100) == 0.75  # None never counts
    assert recall_at([], 5) == 0.0


@dataclass
class C:  # a citation
    source: str
    start: int
    end: int
    sentence: str
    sentence_start: int
    sentence_end: int


@dataclass
class A:  # an answer
    answer: str | None
    citations: list = field(default_factory=list)


def test_sentence_hit():
    cite = C("doc.txt", 120, 125, "He lives in Paris.", 108, 126)
    assert sentence_hit(A("Paris", [cite]), ["Paris"]) is True
    assert sentence_hit(A("Paris", [cite]), ["paris"]) is False  # case-sensitive
    assert sentence_hit(A(None, [cite]), ["Paris"]) is False  # not found is never a hit
    assert sentence_hit(A("Paris", []), ["Paris"]) is False
    # only the first citation counts
    other = C("doc.txt", 0, 5, "Nothing here.", 0, 13)
    assert sentence_hit(A("Paris", [other, cite]), ["Paris"]) is False


def test_sentence_in_paragraph_hit():
    inside = C("doc.txt", 120, 125, "He lives in Paris.", 108, 126)
    assert sentence_in_paragraph_hit(A("Paris", [inside]), *GOLD, ["Paris"]) is True
    outside = C("doc.txt", 220, 225, "He lives in Paris.", 208, 226)
    assert sentence_in_paragraph_hit(A("Paris", [outside]), *GOLD, ["Paris"]) is False
    elsewhere = C("x.txt", 120, 125, "He lives in Paris.", 108, 126)
    assert sentence_in_paragraph_hit(A("Paris", [elsewhere]), *GOLD, ["Paris"]) is False


def test_citation_hit_needs_the_span_inside_the_gold_paragraph():
    def hit(source, start, end, answer="x"):
        return citation_hit(A(answer, [C(source, start, end, "s", start, end)]), *GOLD)

    assert hit("doc.txt", 100, 200) is True  # the whole paragraph: inclusive bounds
    assert hit("doc.txt", 150, 160) is True
    assert hit("doc.txt", 99, 120) is False  # starts before
    assert hit("doc.txt", 190, 201) is False  # ends after
    assert hit("x.txt", 150, 160) is False
    assert hit("doc.txt", 150, 160, answer=None) is False
    assert citation_hit(A("x", []), *GOLD) is False


@pytest.mark.parametrize("values", [[5.0], [3.0, 1.0], [1.0, 2.0, 3.0, 4.0], [10.0, 0.5, 7.25, 3.0, 3.0, 99.0]])
@pytest.mark.parametrize("q", [0, 10, 25, 50, 90, 95, 100])
def test_percentile_matches_numpy(values, q):
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_by_hand():
    assert percentile([1, 2, 3, 4], 50) == 2.5  # position 1.5: halfway between 2 and 3
    assert percentile([4, 1, 3, 2], 25) == 1.75  # sorted first; position 0.75
    assert percentile([], 50) is None
