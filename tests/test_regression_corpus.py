"""The regression corpus: every input the loader fuzzers found to fail (tests/corpus/), kept as a small file
with what loading it must give, so that a fixed loader stays fixed.

``tests/corpus/expected.json`` maps each file to ``{"text": [...], "heading": ..., "why": ...}`` (each
string must be in the document's text; the heading, when given, must name the section the first one
sits in) or ``{"skip": "..."}`` (the one-line skip reason must contain it). Every file must be listed,
and every listed file must exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import DocumentError
from qa.ingest.documents import load_document

from .fuzzing import check_document, squeeze, stub_ocr

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())


def test_every_corpus_file_has_an_expectation():
    files = {p.name for p in CORPUS.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_loads_as_expected(name):
    expected = EXPECTED[name]
    path = CORPUS / name
    with stub_ocr():
        if "skip" in expected:
            with pytest.raises(DocumentError) as exc:
                load_document(path, name)
            reason = str(exc.value)
            assert expected["skip"] in reason and "\n" not in reason
            return
        doc = load_document(path, name)
    check_document(doc)
    for text in expected["text"]:
        assert squeeze(text) in squeeze(doc.text), text
    if "heading" in expected:
        assert doc.locate(doc.text.index(expected["text"][0])).heading == expected["heading"]
