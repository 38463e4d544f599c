"""qa.answer.answer_types: the kind of answer a question wants and the candidate spans of a sentence."""

import pytest

from qa.answer.answer_types import (
    DATE,
    ENTITY,
    NUMBER,
    PERSON,
    PLACE,
    TypedSpan,
    candidates,
    cued,
    question_type,
)


@pytest.mark.parametrize(("question", "kind"), [
    ("How much economic assistance has Japan provided to Ukraine?", NUMBER),
    ("How many people live in Osaka?", NUMBER),
    ("how long is the bridge?", NUMBER),  # case-insensitive
    ("What percentage of voters agreed?", NUMBER),
    ("What was the cost of the program?", NUMBER),
    ("When did the war start?", DATE),
    ("What year did the treaty end?", DATE),
    ("Which year was it signed?", DATE),  # the DATE rule wins over the generic "which" of ENTITY
    ("In what decade was it built?", DATE),
    ("Who is the prime minister of Japan?", PERSON),
    ("Whose book won the prize?", PERSON),
    ("Which president signed it?", PERSON),
    ("Where is the Eiffel Tower?", PLACE),
    ("Which country hosted the conference?", PLACE),  # PLACE wins over the generic "which"
    ("What city is the capital?", PLACE),
    ("Which bank raised interest rates?", ENTITY),
    ("What organization runs the program?", ENTITY),
    ("What is the capital of France?", None),
    ("Why did the talks fail?", None),
    ("Describe the somewhere-whole plan", None),  # "where"/"who" inside words do not count
])
def test_question_type(question, kind):
    assert question_type(question) == kind


def spans(sentence, kind):
    return [(sentence[c.start:c.end], c.kind) for c in candidates(sentence, kind)]


def test_money_is_one_number_span_with_its_scale():
    s = "Japan has provided $16 billion in assistance since 2022."
    assert candidates(s, NUMBER) == [TypedSpan(19, 30, NUMBER)]
    assert s[19:30] == "$16 billion"


@pytest.mark.parametrize(("sentence", "expected"), [
    ("In 2022 about 3,000 people attended.", ["3,000 people"]),  # the year is dropped
    ("It grew 5 percent over three years.", ["5 percent", "three years"]),
    ("He paid €300 million and 12 dollars.", ["€300 million", "12 dollars"]),
    ("It cost $5.5 bn in total.", ["$5.5 bn"]),
])
def test_numbers(sentence, expected):
    assert [text for text, _ in spans(sentence, NUMBER)] == expected
    assert {kind for _, kind in spans(sentence, NUMBER)} == {NUMBER}


def test_number_year_filter_keeps_years_when_nothing_else_is_left():
    # a year is not an amount when another number is there...
    assert spans("They hired 300 people in 2024.", NUMBER) == [("300 people", NUMBER)]
    # ...but it is kept when it is the only candidate (the filter falls back to everything found)
    assert candidates("The war began in 2022.", NUMBER) == [TypedSpan(17, 21, NUMBER)]
    # 1500-2099 look like years; 1499 does not
    assert spans("Only 1499 and 2024 remain.", NUMBER) == [("1499", NUMBER)]


def test_dates():
    s = "The deal was signed on November 10, 2025 in Tokyo."
    assert candidates(s, DATE) == [TypedSpan(23, 40, DATE)]
    assert s[23:40] == "November 10, 2025"
    assert spans("Prices rose in the 1990s and again in 2008.", DATE) == [("1990s", DATE), ("2008", DATE)]
    assert spans("It happened on 10 November 2025 and in March 2024.", DATE) == [
        ("10 November 2025", DATE), ("March 2024", DATE)]
    assert spans("Born in the late 1990s.", DATE) == [("late 1990s", DATE)]
    assert spans("In the 19th century AD it grew.", DATE) == [("19th century AD", DATE)]
    assert spans("Japan has provided $16 billion in assistance since 2022.", DATE) == [("2022", DATE)]


def test_entity_names_with_joining_words_and_a_dropped_leading_article():
    s = "The Bank of Japan raised rates."
    assert candidates(s, ENTITY) == [TypedSpan(4, 17, ENTITY)]  # "The " dropped: a leading function word
    # PERSON and PLACE questions use the same name pattern, with their own kind
    assert candidates(s, PLACE) == [TypedSpan(4, 17, PLACE)]
    assert spans("In Paris, he met Emmanuel Macron.", PERSON) == [("Paris", PERSON), ("Emmanuel Macron", PERSON)]
    assert spans("The Fed raised rates.", ENTITY) == [("Fed", ENTITY)]
    assert spans("He met the Ukraine Mine Action Conference.", ENTITY) == [("Ukraine Mine Action Conference", ENTITY)]


def test_possessive_and_trailing_punctuation_are_trimmed():
    assert spans("He praised Japan’s support.", PLACE) == [("Japan", PLACE)]
    assert spans("He praised Japan's support.", PLACE) == [("Japan", PLACE)]
    assert spans("They met in Kyiv, then Lviv.", PLACE) == [("Kyiv", PLACE), ("Lviv", PLACE)]


def test_a_capitalised_first_word_alone_is_not_a_name():
    assert candidates("Tokyo is big.", PLACE) == []  # one word opening the sentence says nothing
    assert spans("Most analysts agree with Tokyo.", ENTITY) == [("Tokyo", ENTITY)]
    assert spans("According to Reuters, it fell.", ENTITY) == [("Reuters", ENTITY)]
    # two capitalised words at the start are kept
    assert spans("Minister Motegi met Ukraine officials.", PERSON) == [("Minister Motegi", PERSON), ("Ukraine", PERSON)]
    # a lone function word is dropped, not turned into an empty span
    assert candidates("The", ENTITY) == []


def test_cued():
    s = "She moved to Paris in 1990."
    paris, year = s.index("Paris"), s.index("1990")
    assert cued(s, paris, PLACE) is True  # "to Paris"
    assert cued(s, year, DATE) is True  # "in 1990"
    assert cued(s, year, PLACE) is True  # "in" cues both places and dates
    assert cued(s, paris, NUMBER) is False  # no cue for numbers
    assert cued(s, 0, PLACE) is False
    s = "Macron visited Paris."
    assert cued(s, s.index("Paris"), PLACE) is False
    s = "He was born in the city of Lyon."
    assert cued(s, s.index("Lyon"), PLACE) is True  # "of Lyon"
    s = "It was in the Louvre."
    assert cued(s, s.index("Louvre"), PLACE) is True  # "in the"
    s = "since the war"
    assert cued(s, s.index("war"), DATE) is True
    # only the 20 characters before the span are read
    s = "in" + " " * 25 + "Paris"
    assert cued(s, s.index("Paris"), PLACE) is False
