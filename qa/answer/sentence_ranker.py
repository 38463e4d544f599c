"""Sentence ranking: every sentence of the candidates read gets a score, a weighted sum of

- its cosine similarity with the question (sentence vectors stored at index time),
- the share of the question's IDF-weighted content words it contains,
- the similarity and the rank of its chunk,
- whether it holds a span of the kind the question asks for (number, date, person, place...),
- the share of the question's adjacent word pairs it repeats.

The weights ship in ``qa/models/sentence-ranker.json`` (fitted on SQuAD v1.1 train by
``bench/fit_reader.py``; the file says how).
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from qa.answer import rule_span
from qa.answer.confidence import parameters
from qa.answer.types import Candidate, Query, SentenceScore
from qa.ingest.lexical import STOP_WORDS, stem, stem_prefix, words

FEATURES = ("cosine", "overlap", "chunk_cosine", "chunk_rank", "has_candidate", "bigrams")


def shipped_weights() -> np.ndarray:
    data = parameters()
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"sentence-ranker.json is for features {data['features']}, not {FEATURES}")
    return np.array(data["weights"], dtype=float)


def idf_weights(terms: list[str], frequencies: dict[str, int], n_chunks: int) -> dict[str, float]:
    """BM25's inverse document frequency of each term: log(1 + (N − df + 0.5) / (df + 0.5))."""
    n = max(n_chunks, 1)
    return {t: math.log(1 + (n - frequencies.get(t, 0) + 0.5) / (frequencies.get(t, 0) + 0.5)) for t in terms}


def bigrams(tokens: list[str]) -> set[tuple[str, str]]:
    """Adjacent stemmed word pairs, except pairs of two stop words."""
    stems = [stem(t) for t in tokens]
    return {(a, b) for a, b in pairwise(stems) if not (a in STOP_WORDS and b in STOP_WORDS)}


def wanted_prefixes(query: Query, pairs: set[tuple[str, str]]) -> tuple[str, ...]:
    """What a sentence's word must start with to stem to a question term or to a word of the question's
    pairs (``lexical.stem_prefix``): the words stemmed to look for those, the others cannot match."""
    return tuple({stem_prefix(t) for t in set(query.idf).union(*pairs)})


def sentence_features(*, text: str, cosine: float, query: Query, kind: str | None, candidate: Candidate,
                      rank: int, pairs: set[tuple[str, str]],
                      prefixes: tuple[str, ...] | None = None) -> np.ndarray:
    """The feature vector of one sentence (in ``FEATURES`` order). ``prefixes``: ``wanted_prefixes(query,
    pairs)``, given once per question by ``rank_sentences``. Only the words that can stem to a question term
    or pair word are stemmed (the rest stand as "": they match nothing), so the overlap and the pairs are
    those of the whole sentence stemmed, for a fraction of the stemming (most of the ranker's time)."""
    total_idf = sum(query.idf.values()) or 1.0
    if prefixes is None:
        prefixes = wanted_prefixes(query, pairs)
    stems = [stem(w) if w.startswith(prefixes) else "" for w in words(text)]
    present = set(stems)
    # the question's pairs never join two stop words, so the sentence's need no such filter (``bigrams``)
    shared = {(a, b) for a, b in pairwise(stems) if a and b} & pairs if pairs else ()
    return np.array([
        float(cosine),
        sum(w for t, w in query.idf.items() if t in present) / total_idf,
        candidate.dense_score or 0.0,
        1.0 / (1 + rank),
        bool(kind and rule_span.typed_spans(text, kind, query.terms)),
        len(shared) / len(pairs) if pairs else 0.0,
    ])


def rank_sentences(query: Query, candidates: list[Candidate], kind: str | None,
                   weights: np.ndarray) -> list[SentenceScore]:
    """Every distinct sentence of the candidates with its features and score, best first."""
    pairs = bigrams(words(query.text))
    prefixes = wanted_prefixes(query, pairs)
    seen: set[tuple[str, int, int]] = set()
    scored: list[SentenceScore] = []
    for rank, candidate in enumerate(candidates):
        chunk = candidate.chunk
        cosines = chunk.sentence_vectors @ query.vector if chunk.sentences else []
        for (a, b), cos in zip(chunk.sentences, cosines):
            key = (chunk.source, a, b)
            if key in seen:  # the same sentence in an overlapping chunk
                continue
            seen.add(key)
            text = chunk.text[a - chunk.start : b - chunk.start]
            features = sentence_features(text=text, cosine=cos, query=query, kind=kind, candidate=candidate,
                                         rank=rank, pairs=pairs, prefixes=prefixes)
            scored.append(SentenceScore(candidate, rank, a, b, features))
    if scored:
        for s, z in zip(scored, np.stack([s.features for s in scored]) @ weights):
            s.score = float(z)
        scored.sort(key=lambda s: -s.score)
    return scored
