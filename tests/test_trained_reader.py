import itertools
import json

import pytest

from qa import Answerer
from qa.answer.span_model import MODEL_DIR, SpanReader, available
from qa.settings import Settings
from qa.training.span_reader import main as train_main

from .conftest import JAPAN_Q, OFF_TOPIC_Q, ROOT

SLICE = ROOT / "tests" / "data" / "squad-v1.1-dev-slice.json"


def test_the_trained_weights_ship_in_the_package_with_a_model_card():
    assert available()
    card = (MODEL_DIR / "README.md").read_text()
    assert "SQuAD" in card and "EM" in card and "F1" in card
    info = json.loads((MODEL_DIR / "training.json").read_text())
    assert info["eval"]["em"] > 0.6 and info["eval"]["f1"] > 0.7  # gold paragraph given, SQuAD v1.1 dev
    assert (MODEL_DIR / "model.safetensors").stat().st_size < 50 * 1024 * 1024


def test_span_reader_finds_answers_inside_passages():
    reader = SpanReader()
    passages = [
        "The Aral Sea was an endorheic lake lying between Kazakhstan and Uzbekistan.",
        "Solar Orbiter was launched on 10 February 2020 from Cape Canaveral aboard an Atlas V rocket.",
    ]
    spans = reader.spans("When was Solar Orbiter launched?", passages)
    best = spans[0]
    assert best.passage == 1 and "10 February 2020" in passages[1][best.start:best.end]
    spans = reader.spans("Which two countries does the Aral Sea lie between?", passages)
    assert "Kazakhstan and Uzbekistan" in passages[spans[0].passage][spans[0].start:spans[0].end]


@pytest.mark.parametrize("question,passage", [
    ("When was Solar Orbiter launched?",
     "Solar Orbiter made its first close approach to the Sun on 26 March 2022, passing inside the orbit of Mercury."),
    ("Who designed the Eiffel Tower?",
     "The Eiffel Tower was repainted in 2022 by a team of 50 painters led by Jean Dupont."),
    ("What is the capital of Australia?",
     "Sydney is the largest city in Australia, with a population of over five million people."),
    ("How tall is Mount Everest?",
     "Mount Everest lies on the border between Nepal and China, and its first ascent was in 1953."),
])
def test_the_reader_says_when_a_passage_does_not_answer(question, passage):
    """Trained with negatives, its [CLS] ("no answer here") score beats its best span in a passage on the
    question's topic that holds an answer of the right kind to another question. (The reader trained
    without negatives quoted "26 March 2022", "Jean Dupont" and "Sydney" here with its [CLS] score
    ~17 below the span's.)"""
    (span,) = SpanReader().spans(question, [passage])
    assert span.null_score > span.score, (passage[span.start:span.end], span.score, span.null_score)


def test_the_reader_still_answers_where_the_passage_does():
    on = "Solar Orbiter was launched on 10 February 2020 from Cape Canaveral aboard an Atlas V rocket."
    (hit,) = SpanReader().spans("When was Solar Orbiter launched?", [on])
    assert hit.score > hit.null_score and "10 February 2020" in on[hit.start:hit.end]


def test_runner_up_answers_come_from_other_sentences(answerer):
    """The seed questions' best sentences sit side by side and are read as one window; the runner-up
    answers shown beside a tentative answer are still the best spans of other sentences, not fragments of
    the answer's own sentence."""
    shown = 0
    for question in ("How much economic assistance has Japan provided to Ukraine since 2022?",
                     "What did Russian aircraft do shortly before her speech?"):
        answer = answerer.ask(question)
        places = [(c.source, c.sentence_start) for c in answer.citations[:1] + answer.alternatives]
        assert len(set(places)) == len(places), places
        shown += len(answer.alternatives)
    assert shown >= 2


@pytest.fixture(scope="module")
def heuristic(seed_index, embedder):
    return Answerer(seed_index, embedder=embedder, reader="heuristic")


@pytest.mark.parametrize("question,expected", [
    ("Who is the prime minister of Japan?", "Sanae Takaichi"),
    ("What did Russian aircraft do shortly before her speech?", "fly by"),
])
def test_trained_reader_quotes_short_exact_spans(answerer, question, expected):
    assert answerer.reader_name == "trained"
    answer = answerer.ask(question)
    assert answer.found and expected in answer.answer
    c = answer.citations[0]
    assert answerer.document_text(c.source)[c.start:c.end] == answer.answer
    assert c.sentence_start <= c.start < c.end <= c.sentence_end


def test_both_readers_stay_selectable_and_agree_on_the_seed_answer(answerer, heuristic):
    assert heuristic.ask(JAPAN_Q).answer == answerer.ask(JAPAN_Q).answer == "$16 billion"
    assert heuristic.ask(OFF_TOPIC_Q).answer is None and answerer.ask(OFF_TOPIC_Q).answer is None


def test_train_reader_writes_weights_card_and_resumes(tmp_path, capsys):
    out = tmp_path / "reader"
    common = ["--out", str(out), "--limit", "12", "--batch", "6", "--max-len", "160", "--stride", "64",
              "--eval", str(SLICE), "--eval-limit", "6"]
    assert train_main([str(SLICE), "--epochs", "1", "--attention-dropout", "0", *common]) == 0
    for name in ("model.safetensors", "config.json", "README.md", "training.json", "checkpoint.safetensors",
                 "checkpoint.json"):
        assert (out / name).exists(), name
    assert not list(out.glob("*.pt")) and not list(out.glob("*.bin")), "no pickled weights"
    first = json.loads((out / "training.json").read_text())
    done, total = first["steps"].split(" of ")
    assert done == total and int(total) >= 2 and 0.0 <= first["eval"]["f1"] <= 1.0
    assert first["hyperparameters"]["attention_dropout"] == 0.0
    assert train_main([str(SLICE), "--epochs", "2", "--resume", *common]) == 0
    assert f"resumed at step {total}" in capsys.readouterr().err
    assert json.loads((out / "training.json").read_text())["steps"] == f"{2 * int(total)} of {2 * int(total)}"
    assert SpanReader(weights=out).spans("What is it?", ["It is a test."]) is not None  # loads back


def test_training_multiplies_in_bfloat16_only_where_the_hardware_does(monkeypatch):
    import torch

    from qa.training import span_reader

    cpu = torch.device("cpu")
    monkeypatch.setattr(span_reader, "_cpu_flags", lambda: {"avx2", "fma", "avx512f"})
    assert not span_reader.use_bf16(cpu)  # emulated: slower than float32
    monkeypatch.setattr(span_reader, "_cpu_flags", lambda: {"avx2", "avx512f", "amx_bf16", "amx_tile"})
    assert span_reader.use_bf16(cpu)
    monkeypatch.setattr(span_reader, "_cpu_flags", lambda: {"avx512_bf16"})
    assert span_reader.use_bf16(cpu)


_DOCUMENTS = itertools.count(1)


def _candidate(text: str, score: float):
    """A retrieved one-sentence chunk, alone in its own document."""
    import numpy as np

    from qa.answer.types import Candidate
    from qa.index.store import StoredChunk

    n = next(_DOCUMENTS)
    chunk = StoredChunk(n, f"doc{n}.txt", n, 0, len(text), text, None, None, [(0, len(text))], np.zeros((1, 384)))
    return Candidate(chunk, score)


SOLAR_Q = "When was Solar Orbiter launched?"


def _solar_candidates():
    """Retrieved best first: one that shares the question's words, the one that answers, one off topic."""
    return [_candidate("Solar Orbiter made its first close approach to the Sun on 26 March 2022, passing inside "
                       "the orbit of Mercury. Solar Orbiter images the Sun's poles.", 0.9),
            _candidate("Solar Orbiter was launched on 10 February 2020 from Cape Canaveral aboard an Atlas V "
                       "rocket.", 0.7),
            _candidate("The Aral Sea was an endorheic lake lying between Kazakhstan and Uzbekistan.", 0.5)]


def test_the_reranker_puts_the_passage_that_answers_first():
    from qa.answer.reranker import Reranker

    question = SOLAR_Q
    shares_words, answers, off_topic = _solar_candidates()
    after = _candidate("Solar Orbiter was launched in February 2020.", 0.4)  # past the depth: not read
    ranked = Reranker(SpanReader(), depth=3).run(question, [shares_words, answers, off_topic, after])
    assert ranked[0] is answers and ranked[-1] is after and after.rerank_score is None
    assert answers.rerank_score > shares_words.rerank_score > off_topic.rerank_score
    # with no weight on the reader, the retriever's order stands
    again = Reranker(SpanReader(), depth=3, weight=0.0).run(question, [shares_words, answers, off_topic, after])
    assert again == [shares_words, answers, off_topic, after]


def test_the_passage_the_answer_is_quoted_from_is_listed_first():
    import numpy as np

    from qa.answer.pipeline import order_by_reading
    from qa.answer.reader import Reader
    from qa.answer.types import Query, Reading
    from qa.ingest.lexical import query_terms

    shares_words, answers, off_topic = _solar_candidates()
    retrieved = [off_topic, shares_words, answers]  # the retriever at its worst
    reading = Reader(span_reader=SpanReader()).run(Query(SOLAR_Q, query_terms(SOLAR_Q), np.zeros(384)), retrieved)
    assert reading.text == "10 February 2020" and reading.sentence.candidate is answers
    # the answer's passage, then the one whose sentences share the question's words, then the off-topic one
    assert order_by_reading(retrieved, reading) == [answers, shares_words, off_topic]
    assert retrieved == [off_topic, shares_words, answers]  # a new list: the retriever's stays as it was
    nothing = Reading(None, None, None, None, 0.0, [])
    assert order_by_reading(retrieved, nothing) == retrieved


def test_passages_not_read_keep_the_retrievers_order_after_those_read():
    import numpy as np

    from qa.answer.pipeline import order_by_reading
    from qa.answer.types import Reading, SentenceScore

    a, b, c, d, e = (_candidate(f"Sentence number {i}.", 1.0 - i / 10) for i in range(5))

    def scored(cand, score):
        return SentenceScore(cand, 0, cand.chunk.start, cand.chunk.end, np.zeros(3), score=score)

    # a, b, c were read (their sentences ranked); d and e lie past k; the answer is quoted from c
    ranked = [scored(c, 3.0), scored(b, 2.0), scored(a, 2.0), scored(a, -1.0)]
    reading = Reading(ranked[0], c.chunk.start, c.chunk.end, None, 0.5, ranked)
    # b and a tie at 2.0 (a's best sentence): the retriever's order breaks the tie
    assert order_by_reading([a, b, c, d, e], reading) == [c, a, b, d, e]
    ranked[1].score = 2.5
    assert order_by_reading([a, b, c, d, e], reading) == [c, b, a, d, e]
    # no span quoted: the read passages still come by their best sentence
    assert order_by_reading([e, a, b, c, d], Reading(None, None, None, None, 0.0, ranked)) == [c, b, a, e, d]


def test_asking_lists_the_answers_passage_first(answerer):
    # the retriever ranks the passage that names him second on the seed document
    question = "Who is the foreign minister of Japan?"
    trace = answerer.read(question, k=5, mode="hybrid", n_passages=10)
    assert trace.reading.text == "Motegi Toshimitsu" and len(trace.candidates) == 10
    assert trace.candidates[0] is trace.reading.sentence.candidate
    assert trace.candidates[0].score < max(c.score for c in trace.candidates)  # not the retriever's first
    first = answerer.ask(question, n_passages=10).passages[0]
    assert first.start <= trace.reading.start < first.end


def test_asking_with_reranking_reads_more_and_keeps_the_answer(seed_index, embedder):
    reranking = Answerer(seed_index, embedder=embedder, settings=Settings(rerank=8))
    trace = reranking.read(JAPAN_Q, k=5, mode="hybrid", n_passages=10)
    assert "rerank" in trace.timings and len(trace.candidates) == 10
    assert all(c.rerank_score is not None for c in trace.candidates[:8])
    # in the reranker's order, but for the answer's own passage, listed first
    assert trace.candidates[0] is trace.reading.sentence.candidate
    rest = [c.rerank_score for c in trace.candidates[1:8]]
    assert rest == sorted(rest, reverse=True)
    assert reranking.ask(JAPAN_Q).answer == "$16 billion"
