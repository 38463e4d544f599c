"""What the span reader reads around the best sentences: each with its neighbours, and two windows of one
chunk that share a sentence read once, as one."""

import numpy as np

from qa.answer import reader as reader_module
from qa.answer.reader import Reader
from qa.answer.span_model import best_spans, ranked_spans
from qa.answer.types import Candidate, SentenceScore
from qa.index.store import StoredChunk


def chunk(cid: int, source: str, start: int, sentences: list[str]) -> StoredChunk:
    text, spans = "", []
    for s in sentences:
        at = start + len(text) + (1 if text else 0)
        text += (" " if text else "") + s
        spans.append((at, at + len(s)))
    return StoredChunk(cid, source, 1, start, start + len(text), text, None, None, spans,
                       np.zeros((len(spans), 384), dtype=np.float32))


def best(c: StoredChunk, *which: int) -> list[SentenceScore]:
    candidate = Candidate(c, 1.0)
    return [SentenceScore(candidate, 0, *c.sentences[j], np.zeros(6)) for j in which]


def doc_text(c: StoredChunk, a: int, b: int) -> str:
    return c.text[a - c.start : b - c.start]


def test_windows_sharing_a_sentence_are_read_once_and_others_apart():
    c = chunk(1, "a.txt", 100, [f"Sentence {i} of the first chunk." for i in range(10)])
    d = chunk(2, "a.txt", 500, [f"Another sentence {i}." for i in range(5)])
    picked = best(c, 4, 5) + best(d, 2) + best(c, 8)  # 4 and 5 share sentences 4 and 5: one window 3..6
    windows = Reader._windows(picked)
    assert [(text, start) for text, start, _ in windows] == [
        (doc_text(c, c.sentences[3][0], c.sentences[6][1]), c.sentences[3][0]),
        (doc_text(d, d.sentences[1][0], d.sentences[3][1]), d.sentences[1][0]),
        (doc_text(c, c.sentences[7][0], c.sentences[9][1]), c.sentences[7][0]),  # touches 3..6: apart
    ]
    assert [w[2] for w in windows] == [picked[0], picked[2], picked[3]]  # each named by its best sentence
    for text, start, s in windows:  # every window is the document's text at its offsets
        assert text == doc_text(s.chunk, start, start + len(text))
    # the same sentences in another chunk (an overlapping chunk of the document) are read apart
    e = chunk(3, "a.txt", 100, [f"Sentence {i} of the first chunk." for i in range(10)])
    assert len(Reader._windows(best(c, 4) + best(e, 5))) == 2


def test_windows_are_merged_no_longer_than_the_limit(monkeypatch):
    c = chunk(1, "b.txt", 0, ["x" * 199 + "." for _ in range(6)])  # 200 characters a sentence
    picked = best(c, 1, 2)  # windows 0..2 and 1..3, 602 characters each
    assert [len(t) for t, _, _ in Reader._windows(picked)] == [803]  # 0..3
    monkeypatch.setattr(reader_module, "MAX_MERGED_CHARS", 700)
    assert [len(t) for t, _, _ in Reader._windows(picked)] == [602, 602]


def test_ranked_spans_are_the_best_that_do_not_overlap():
    starts = np.array([9.0, 5.0, 4.0, 0.0, 3.0, 0.0])  # piece 0: [CLS], outside the passage
    ends = np.array([9.0, 0.0, 4.0, 1.0, 0.0, 3.5])
    offsets = [None, (0, 3), (4, 8), (9, 12), (13, 17), (18, 22)]
    # pieces (start, end): (1,2) 9, (1,5) 8.5, (2,2) 8, (2,5) 7.5, (4,5) 6.5, (1,3) 6, ... (3,3) 1: those
    # that overlap one taken are passed over
    assert ranked_spans(starts, ends, offsets, 3) == [(9.0, 0, 8), (6.5, 13, 22), (1.0, 9, 12)]
    assert best_spans(starts, ends, offsets) == (9.0, 0, 8)
    assert ranked_spans(starts, ends, offsets, 2, max_answer=2) == [(9.0, 0, 8), (6.5, 13, 22)]
    assert ranked_spans(starts, ends, [None] * 6, 3) == [] and best_spans(starts, ends, [None] * 6)[1] is None


class Recording:
    """Stands in for the span reader: records what it is given to read, finds nothing."""

    def __init__(self):
        self.read = []

    def spans(self, question, passages, per_passage=1):
        self.read.append(passages)
        return []


def test_sentences_ranked_far_below_the_best_are_not_read():
    c = chunk(1, "c.txt", 0, [f"Sentence number {i} stands alone here and is long enough." for i in range(12)])
    picked = best(c, 0, 4, 8, 11)
    for s, score in zip(picked, (10.0, 10.0 - reader_module.SENTENCE_GAP, 6.9, 2.0)):
        s.score = score
    recorder = Recording()
    Reader(span_reader=recorder)._read_spans("Which sentence?", None, picked)
    assert recorder.read == [[w for w, _, _ in Reader._windows(picked[:2])]]  # 3.1 and 8 below the best: not read
