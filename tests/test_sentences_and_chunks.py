from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.config import MAX_WORDPIECES, ChunkerSettings
from qa.ingest.chunker import chunk_document
from qa.ingest.documents import Document, Section, load_document
from qa.ingest.sentences import split_sentences
from qa.ingest.tokens import count_tokens, count_wordpieces

from .conftest import SEEDS


def texts(text, spans):
    return [text[a:b] for a, b in spans]


def test_sentences_respect_abbreviations_initials_and_wrapped_lines():
    text = (
        "Dr. Smith met J. K. Rowling in the U.S. on Monday. He said \"Hi!\" Then he left.\n"
        "A hard-wrapped line that\ncontinues here. Next one.\n\nHeading\nBody text."
    )
    assert texts(text, split_sentences(text)) == [
        "Dr. Smith met J. K. Rowling in the U.S. on Monday.",
        'He said "Hi!"',
        "Then he left.",
        "A hard-wrapped line that\ncontinues here.",
        "Next one.",
        "Heading",
        "Body text.",
    ]


def check_chunks(doc, chunks, settings=ChunkerSettings()):
    assert chunks, "a document with text must give chunks"
    prev_start = -1
    for c in chunks:
        assert c.text == doc.text[c.start:c.end]
        assert c.start > prev_start  # in order, each one new
        prev_start = c.start
        assert count_wordpieces([c.text])[0] <= MAX_WORDPIECES
        for a, b in c.sentences:
            assert c.start <= a < b <= c.end
    # the chunks cover every non-space character
    covered = [False] * len(doc.text)
    for c in chunks:
        for i in range(c.start, c.end):
            covered[i] = True
    assert all(covered[i] or doc.text[i].isspace() for i in range(len(doc.text)))


def test_seed_corpus_chunks_fit_the_model_window_and_slice_exactly():
    longest = 0
    for path in sorted(Path(SEEDS).rglob("*.txt")):
        doc = load_document(path, path.name)
        chunks = chunk_document(doc)
        check_chunks(doc, chunks)
        longest = max(longest, max(count_wordpieces([c.text for c in chunks])))
        assert max(count_tokens([c.text for c in chunks])) <= ChunkerSettings().max_tokens + 8
    assert 0 < longest <= MAX_WORDPIECES


def test_chunks_overlap_when_cut_mid_paragraph_and_start_fresh_at_sections():
    para = " ".join(f"Sentence number {i} talks about topic {i} at some length here." for i in range(60))
    text = "Intro\n\n" + para + "\n\nSecond part. It is short."
    second = text.index("Second part")
    doc = Document("x.md", "md", text, [Section(0, heading="Intro"), Section(second, heading="Second")])
    chunks = chunk_document(doc)
    check_chunks(doc, chunks)
    body = [c for c in chunks if c.heading == "Intro"]
    assert len(body) >= 3
    assert any(b.start < a.end for a, b in zip(body, body[1:])), "mid-paragraph cuts should overlap"
    last = chunks[-1]
    assert last.start == second and last.heading == "Second"


def test_a_sentence_longer_than_a_chunk_and_an_endless_word_are_cut_to_fit():
    long_sentence = "word " * 900 + "end."
    blob = "x" * 5000
    text = long_sentence + "\n\n" + blob + "\n\n" + "数据" * 600
    doc = Document("x.txt", "txt", text, [Section(0)])
    check_chunks(doc, chunk_document(doc))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=3000))
def test_any_text_chunks_exactly_in_order_within_the_window(text):
    doc = Document("p.txt", "txt", text, [Section(0)])
    chunks = chunk_document(doc, ChunkerSettings(max_tokens=60, overlap_tokens=10))
    if not text.strip():
        assert chunks == []
        return
    check_chunks(doc, chunks)
