import pytest

from qa.evaluation.question_forms import by_form, question_form


@pytest.mark.parametrize("question, form", [
    ("What is the capital of France?", "what"),
    ("In what year did the war end?", "what"),  # the first question word, not the first word
    ("Which team won?", "which"),
    ("To whom was the letter sent?", "who"),
    ("Whose idea was it?", "who"),
    ("When did it open?", "when"),
    ("Where is the office?", "where"),
    ("How many people live there?", "how many / much"),
    ("How long does the battery last?", "how many / much"),
    ("How does the site use cookies?", "how"),
    ("Why was the law changed?", "why"),
    ("Do they share my data with third parties?", "yes / no"),
    ("Is the strap adjustable?", "yes / no"),
    ("The treaty was signed by whom?", "who"),
    ("Name the river that flows through Paris.", "other"),
    ("", "other"),
])
def test_question_form(question, form):
    assert question_form(question) == form


def test_by_form_averages_per_form_in_a_fixed_order():
    rows = [
        ("Why did it fail?", 0.0, 0.5, "the power was cut", ["because the power was cut off"]),
        ("Why now?", 1.0, 1.0, "it rained", ["it rained"]),
        ("Who won?", 0.0, 0.0, None, ["Ann Lee", "Ann"]),
    ]
    out = by_form(rows)
    assert list(out) == ["who", "why"]
    assert out["why"] == {"questions": 2, "f1": 0.5, "span_f1": 0.75, "answer_words": 3.0, "gold_words": 4.0}
    # no best span: it counts in F1 but has no length; the gold length is the mean over its answers
    assert out["who"] == {"questions": 1, "f1": 0.0, "span_f1": 0.0, "answer_words": None, "gold_words": 1.5}
