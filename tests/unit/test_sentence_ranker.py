"""qa.answer.sentence_ranker: BM25 idf, bigrams, the feature vector and the ranking, by hand, with
hand-made chunks and unit sentence vectors (no embedder)."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from qa.answer.answer_types import NUMBER
from qa.answer.sentence_ranker import (
    FEATURES,
    bigrams,
    idf_weights,
    rank_sentences,
    sentence_features,
)
from qa.answer.types import Candidate, Query
from qa.index.store import StoredChunk
from qa.ingest.lexical import query_terms, stem, words


def test_idf_weights_by_hand():
    idf = idf_weights(["japan", "aid", "rare"], {"japan": 2, "aid": 10}, 10)
    assert idf == pytest.approx({
        "japan": math.log(1 + (10 - 2 + 0.5) / (2 + 0.5)),  # log(4.4)
        "aid": math.log(1 + 0.5 / 10.5),  # in every chunk: small but positive
        "rare": math.log(1 + 10.5 / 0.5),  # in no chunk: log(22)
    })
    assert idf["japan"] == pytest.approx(math.log(4.4))
    assert idf_weights(["x"], {}, 0) == pytest.approx({"x": math.log(4)})  # N taken as at least 1


def test_bigrams_skip_pairs_of_stop_words():
    assert bigrams(["the", "bank", "of", "japan"]) == {("the", "bank"), ("bank", "of"), ("of", "japan")}
    assert bigrams(["in", "the", "city"]) == {("the", "citi")}  # (in, the) dropped; stemmed
    assert bigrams(["japan"]) == set()
    assert bigrams([]) == set()


QUESTION = "How much aid did Japan give Ukraine?"


def make_query(vector=None):
    # idf by hand: "tokyo" is asked but absent from the sentence below
    return Query(text=QUESTION, terms=query_terms(QUESTION), vector=vector,
                 idf={"aid": 2.0, "japan": 1.0, "give": 0.5, "ukrain": 0.5, "tokyo": 1.0})


def make_chunk(id, source, start, sentences, vectors):
    """A chunk of these sentences joined by single spaces, starting at ``start`` in its document."""
    text = " ".join(sentences)
    spans, pos = [], start
    for s in sentences:
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    vecs = np.asarray(vectors, dtype=np.float32)
    return StoredChunk(id, source, 1, start, start + len(text), text, None, None, spans, vecs)


def test_query_terms_and_pairs_of_the_question():
    assert query_terms(QUESTION) == ["aid", "japan", "give", "ukrain"]
    assert bigrams(words(QUESTION)) == {("much", "aid"), ("aid", "did"), ("did", "japan"), ("japan", "give"),
                                        ("give", "ukrain")}  # (how, much): two stop words


def test_sentence_features_by_hand():
    text = "Japan will give Ukraine $16 billion in aid."
    chunk = make_chunk(7, "a.txt", 0, [text], [[1.0, 0.0]])
    candidate = Candidate(chunk, score=0.9, dense_score=0.6)
    query = make_query()
    features = sentence_features(text=text, cosine=0.3, query=query, kind=NUMBER, candidate=candidate, rank=1,
                                 pairs=bigrams(words(QUESTION)))
    assert FEATURES == ("cosine", "overlap", "chunk_cosine", "chunk_rank", "has_candidate", "bigrams")
    np.testing.assert_allclose(features, [
        0.3,  # the cosine given
        4.0 / 5.0,  # aid + japan + give + ukrain = 4 of the 5 idf (tokyo missing)
        0.6,  # the chunk's dense score
        0.5,  # 1 / (1 + rank 1)
        1.0,  # "$16 billion" is a number
        1 / 5,  # (give, ukrain) is one of the question's 5 pairs
    ])


def test_sentence_features_without_kind_scores_or_pairs():
    text = "Nothing relevant here."
    chunk = make_chunk(7, "a.txt", 0, [text], [[1.0, 0.0]])
    query = Query(text="x", terms=[], vector=None, idf={})
    features = sentence_features(text=text, cosine=-0.25, query=query, kind=None,
                                 candidate=Candidate(chunk, score=1.0), rank=0, pairs=set())
    np.testing.assert_array_equal(features, [-0.25, 0.0, 0.0, 1.0, 0.0, 0.0])
    # a sentence with no span of the kind asked
    features = sentence_features(text=text, cosine=0.0, query=make_query(), kind=NUMBER,
                                 candidate=Candidate(chunk, score=1.0), rank=3, pairs={("a", "b")})
    np.testing.assert_array_equal(features, [0.0, 0.0, 0.0, 0.25, 0.0, 0.0])


E1, E2, E3 = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]
COSINE_ONLY = np.array([1.0, 0, 0, 0, 0, 0])
RANK_ONLY = np.array([0, 0, 0, 1.0, 0, 0])


def sentences_of(ranked):
    return [(s.text, s.rank, s.start, s.end) for s in ranked]


def test_the_sentence_equal_to_the_question_vector_ranks_first():
    chunk = make_chunk(1, "a.txt", 100, ["Tokyo is big.", "Japan gave aid.", "Paris is far."], [E1, E2, E3])
    query = make_query(vector=np.array(E2, dtype=np.float32))
    ranked = rank_sentences(query, [Candidate(chunk, score=1.0)], None, COSINE_ONLY)
    assert sentences_of(ranked) == [
        ("Japan gave aid.", 0, 114, 129),
        ("Tokyo is big.", 0, 100, 113),  # ties keep the chunk's order
        ("Paris is far.", 0, 130, 143),
    ]
    assert [s.score for s in ranked] == [1.0, 0.0, 0.0]
    assert ranked[0].features[0] == 1.0


def test_a_mixed_vector_ranks_by_cosine():
    chunk = make_chunk(1, "a.txt", 0, ["One.", "Two.", "Three."], [E1, E2, E3])
    vector = np.array([0.6, 0.0, 0.8], dtype=np.float32)  # a unit vector nearer E3
    ranked = rank_sentences(make_query(vector), [Candidate(chunk, score=1.0)], None, COSINE_ONLY)
    assert [s.text for s in ranked] == ["Three.", "One.", "Two."]
    assert [s.score for s in ranked] == pytest.approx([0.8, 0.6, 0.0])


def test_a_sentence_in_two_overlapping_chunks_is_scored_once_for_the_better_chunk():
    first = make_chunk(1, "a.txt", 0, ["Alpha one.", "Beta two."], [E1, E2])
    second = make_chunk(2, "a.txt", 11, ["Beta two.", "Gamma three."], [E2, E3])  # shares "Beta two."
    other = make_chunk(3, "b.txt", 0, ["Alpha one."], [E1])  # same offsets, another document: not a duplicate
    assert first.sentences[1] == second.sentences[0] == (11, 20)
    candidates = [Candidate(first, score=1.0), Candidate(second, score=0.5), Candidate(other, score=0.1)]
    ranked = rank_sentences(make_query(np.array(E1, dtype=np.float32)), candidates, None, RANK_ONLY)
    assert sentences_of(ranked) == [
        ("Alpha one.", 0, 0, 10),
        ("Beta two.", 0, 11, 20),
        ("Gamma three.", 1, 21, 33),
        ("Alpha one.", 2, 0, 10),
    ]
    assert [s.score for s in ranked] == pytest.approx([1.0, 1.0, 0.5, 1 / 3])
    assert [s.chunk.id for s in ranked] == [1, 1, 2, 3]


def test_no_candidates_no_sentences():
    assert rank_sentences(make_query(np.array(E1)), [], None, COSINE_ONLY) == []


SLICE = Path(__file__).resolve().parents[1] / "data" / "squad-v1.1-dev-slice.json"


def test_features_stem_only_what_can_match_yet_equal_the_whole_sentence_stemmed():
    """Overlap and pairs from the words that can stem to a question term or pair word (the ranker's fast
    path) are those of every word stemmed; checked on every SQuAD slice question against its paragraph's
    sentences (and the stemmer's odd endings)."""
    data = json.loads(SLICE.read_text())["data"]
    pairs_of = [(p["context"], q["question"]) for a in data for p in a["paragraphs"] for q in p["qas"]]
    pairs_of.append(("Who died lying early? They were dying early in the news, lying about generalizations.",
                     "Who died lying early in the news of generalizations?"))
    matched = 0
    for context, question in pairs_of:
        terms = query_terms(question)
        query = Query(text=question, terms=terms, vector=None, idf={t: 1.0 + i for i, t in enumerate(terms)})
        pairs = bigrams(words(question))
        chunk = make_chunk(1, "a.txt", 0, [context], [[1.0]])
        for sentence in re.split(r"(?<=[.!?])\s+", context):
            got = sentence_features(text=sentence, cosine=0.0, query=query, kind=None,
                                    candidate=Candidate(chunk, score=1.0), rank=0, pairs=pairs)
            present = {stem(w) for w in words(sentence)}
            overlap = sum(w for t, w in query.idf.items() if t in present) / (sum(query.idf.values()) or 1.0)
            shared = len(pairs & bigrams(words(sentence))) / len(pairs) if pairs else 0.0
            assert (got[1], got[5]) == pytest.approx((overlap, shared)), (question, sentence)
            matched += shared > 0
    assert matched > 20  # many sentences repeat a pair of their question's words
