"""The exact BM25 rescoring counts the question's terms in a chunk without stemming every word; it must
count exactly what the index's own analysis (``terms``) counts."""

import json
from collections import Counter
from pathlib import Path

from qa.ingest.lexical import query_terms, stem, stem_prefix, term_counts, terms, words

SLICE = Path(__file__).resolve().parents[1] / "data" / "squad-v1.1-dev-slice.json"
# the stemmer's exceptions and endings rewritten most: each word starts with its stem's prefix
ODD = ("dying lying tying vying skies skis news gently ugly early only singly idly mobility sensibility "
       "generalization relational hopping ties cried conflated agreed feed happiness studies possibly "
       "analogies fulness organization 1,000.5 Ångström naïve")


def test_every_word_starts_with_its_stems_prefix():
    texts = [p["context"] for a in json.loads(SLICE.read_text())["data"] for p in a["paragraphs"]]
    vocabulary = {w for t in [*texts, ODD] for w in words(t)}
    assert len(vocabulary) > 500
    assert [w for w in vocabulary if not w.startswith(stem_prefix(stem(w)))] == []
    assert stem("dying") == "die" and stem_prefix("die") == "d"  # stem[:-1] would not do


def test_term_counts_are_what_the_analysis_counts():
    data = json.loads(SLICE.read_text())["data"]
    pairs = [(p["context"], q["question"]) for a in data for p in a["paragraphs"] for q in p["qas"]]
    checked = 0
    for context, question in pairs + [(ODD, "Who died lying early in the news of generalizations?")]:
        wanted = set(query_terms(question))
        (counts,) = term_counts([context], wanted)
        assert counts == Counter(t for t in terms(context) if t in wanted)
        checked += bool(counts)
    assert checked > 50  # most questions share terms with their paragraph
