"""qa.answer.rule_span: typed spans trimmed of the question's words; the span nearest them, cues first."""

from qa.answer.answer_types import DATE, ENTITY, NUMBER, PERSON, PLACE
from qa.answer.rule_span import CUE_BONUS, best_span, typed_spans
from qa.ingest.lexical import query_terms


def texts(text, spans):
    return [text[s.start:s.end] for s in spans]


def test_question_words_are_trimmed_from_a_name():
    text = "Minister Motegi met Ukraine officials."
    terms = query_terms("Who met the minister?")
    assert "minist" in terms
    spans = typed_spans(text, PERSON, terms)
    assert texts(text, spans) == ["Motegi", "Ukraine"]
    assert (spans[0].start, spans[0].end, spans[0].kind) == (9, 15, PERSON)
    # without "minister" in the question the title stays
    assert texts(text, typed_spans(text, PERSON, query_terms("Who met officials?"))) == ["Minister Motegi", "Ukraine"]


def test_a_joining_word_left_at_the_edge_is_trimmed_too():
    text = "The Bank of Japan raised rates."
    assert texts(text, typed_spans(text, ENTITY, query_terms("Which bank raised rates?"))) == ["Japan"]
    assert texts(text, typed_spans(text, ENTITY, [])) == ["Bank of Japan"]


def test_a_span_made_only_of_question_words_is_dropped():
    text = "They met in Tokyo."
    assert typed_spans(text, PLACE, query_terms("Where is Tokyo?")) == []
    assert best_span(text, PLACE, query_terms("Where is Tokyo?")) is None


def test_best_span_is_the_nearest_to_the_question_words():
    text = "Minister Sato praised Kishida, and Tanaka announced the aid package."
    terms = query_terms("Who announced the aid package?")
    assert terms == ["announc", "aid", "packag"]
    # "announced" at 42: Minister Sato ends 29 away, Kishida 13, Tanaka 1
    assert best_span(text, PERSON, terms) == (35, 41)
    assert text[35:41] == "Tanaka"


def test_a_cued_place_beats_a_nearer_name():
    text = "Macron gave the speech with Merkel, in a hall in Paris."
    terms = query_terms("Where did Macron give the speech?")
    # anchors: "Macron" at 0 and "speech" at 16 ("gave" does not stem to "give"). Merkel [28, 34) is 12
    # from "speech", Paris [49, 54) is 33 from it, but "in Paris" earns CUE_BONUS: 33 - 40 = -7 < 12
    assert CUE_BONUS == 40
    assert best_span(text, PLACE, terms) == (49, 54)
    assert text[49:54] == "Paris"
    # the same names for a "who" question: people get no cue, so the nearer name wins
    assert best_span(text, PERSON, terms) == (28, 34)
    assert text[28:34] == "Merkel"


def test_among_cued_dates_the_nearest_wins():
    text = "In 1990 they met; Japan pledged aid in 2022."
    terms = query_terms("When did Japan pledge aid?")
    assert best_span(text, DATE, terms) == (39, 43)  # "aid" at 32 is 7 from 2022; "Japan" at 18 is 11 from 1990


def test_without_question_words_in_the_sentence_the_first_span_wins():
    text = "It is in Paris or Lyon."
    assert best_span(text, PLACE, []) == (9, 14)
    assert best_span(text, PLACE, query_terms("Where is the museum?")) == (9, 14)


def test_no_span_of_the_kind_gives_none():
    assert best_span("Nothing to see here.", NUMBER, query_terms("How many?")) is None
