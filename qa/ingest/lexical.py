"""Words for lexical matching: lower case, stemmed (Snowball English), stop words dropped from questions.

The same analysis feeds the BM25 index (tantivy over stemmed terms, ``qa.index.lexical_index``; PostgreSQL's
BM25 in ``store_postgres``) and the reader's word overlap,
so both agree on what counts as the same word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

_TOKEN = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom whose why will with would you
    your yours yourself yourselves also may might must shall s t d ll m re ve did does did many much
    kind type name called""".split()
)

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def words(text: str) -> list[str]:
    """Lower-cased word tokens, unstemmed."""
    return [w.lower() for w in _TOKEN.findall(text)]  # findall: strings, no match objects (1.6x faster)


def terms(text: str) -> list[str]:
    """All stemmed terms of a text, in order (what the BM25 index stores)."""
    return [stem(w) for w in words(text)]


def stem_prefix(term: str) -> str:
    """What every word stemmed to ``term`` starts with: the stem less its last two characters (its first
    character if it is shorter). The English Snowball stemmer only rewrites a word's ending, and never more
    than the stem's last two characters of what it keeps ("dying" -> "die", "mobility" -> "mobil")."""
    return term[:-2] if len(term) > 2 else term[:1]


def term_counts(texts: Iterable[str], wanted: set[str]) -> list[Counter[str]]:
    """Per text, how often each of the stemmed terms ``wanted`` occurs in it, as ``terms(text)`` would
    count them, stemming only the words that can stem to one of them (~4x faster on a chunk than ``terms``)."""
    prefixes = tuple({stem_prefix(t) for t in wanted})
    out = []
    for text in texts:
        counts: Counter[str] = Counter()
        for w in _TOKEN.findall(text):  # ``words`` inlined: no list a text on this hot path (~12% faster);
            w = w.lower()  # tests/unit/test_lexical_counts.py holds the counts equal to ``terms``
            if w.startswith(prefixes):
                t = stem(w)
                if t in wanted:
                    counts[t] += 1
        out.append(counts)
    return out


def query_terms(text: str) -> list[str]:
    """Distinct stemmed content terms of a question, in order."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w not in STOP_WORDS:
            seen.setdefault(stem(w), None)
    return list(seen)
