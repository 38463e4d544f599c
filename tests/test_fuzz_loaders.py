"""Every document loader, fuzzed: odd but plausible files of each format (tests/fuzz_inputs.py) and damaged
copies of real ones must load or be skipped with a one-line reason, in bounded time and memory, with
sections inside the text and no planted sentence lost (tests/fuzzing.py holds the invariants).

The normal suite runs a few hundred inputs, the same ones every time; ``make fuzz`` runs 10,000 fresh ones
per loader and reports the tally (docs/BENCHMARKS.md, Fuzzing the loaders). Inputs that once failed live
in tests/corpus/ (tests/test_regression_corpus.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, note

from qa.ingest.documents import Document

from . import fuzz_inputs as inputs
from . import fuzzing
from .fuzzing import fuzz_settings

pytestmark = pytest.mark.filterwarnings("ignore")  # pypdf, ebooklib and Pillow warn about damaged files


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    fuzzing.write_report()
    # `make fuzz` does not stop at the first failure: it counts them all, and fails here
    assert not (fuzzing.LONG and fuzzing.FAILED), f"{len(fuzzing.FAILED)} failures, e.g. " + "; ".join(fuzzing.FAILED[:5])


def run(loader: str, case: inputs.Case) -> Document | str:
    note(f"{case.suffix} {case.note} ({len(case.data)} bytes), planted {case.planted!r}")
    with tempfile.TemporaryDirectory(prefix="qa-fuzz-") as folder:
        return fuzzing.check(loader, case.write(Path(folder)), planted=case.planted, must_keep=case.must_keep)


@fuzz_settings("txt")
@given(inputs.text_files())
def test_text_in_any_encoding_with_or_without_a_bom_keeps_its_sentence(case):
    run("txt", case)


@fuzz_settings("md")
@given(inputs.markdown_files())
def test_markdown_edge_cases_keep_their_text_and_sections(case):
    run("md", case)


@fuzz_settings("html")
@given(inputs.html_files())
def test_html_tag_soup_keeps_every_visible_sentence(case):
    run("html", case)


@fuzz_settings("html-deep")
@given(inputs.deep_html_files())
def test_deeply_nested_html_keeps_its_text_and_headings(case_heading):
    case, heading = case_heading
    doc = run("html-deep", case)
    assert isinstance(doc, Document), doc
    assert heading in [s.heading for s in doc.sections], [s.heading for s in doc.sections][:5]
    assert "After the depths." in doc.text


@fuzz_settings("pdf")
@given(inputs.pdf_files())
def test_pdf_files_fresh_restructured_and_damaged(case):
    with fuzzing.stub_ocr():
        run("pdf", case)


@fuzz_settings("docx")
@given(inputs.office_files(".docx"))
def test_word_packages(case):
    run("docx", case)


@fuzz_settings("pptx")
@given(inputs.office_files(".pptx"))
def test_powerpoint_packages(case):
    run("pptx", case)


@fuzz_settings("odt")
@given(inputs.office_files(".odt"))
def test_opendocument_packages(case):
    run("odt", case)


@fuzz_settings("epub")
@given(inputs.office_files(".epub"))
def test_epub_packages(case):
    run("epub", case)


@fuzz_settings("rtf")
@given(inputs.rtf_files())
def test_rtf_groups_and_control_words(case):
    run("rtf", case)


@fuzz_settings("image")
@given(inputs.image_files())
def test_images_fresh_and_damaged_with_a_stub_ocr_engine(case):
    with fuzzing.stub_ocr():
        run("image", case)


@fuzz_settings("ocr")
@given(inputs.image_files())
def test_images_with_the_real_ocr_engine(case):
    # the real engine may misread: only the bounds and the one-line skip reasons are checked
    run("ocr", inputs.Case(case.data, case.suffix, None, must_keep=False, note=case.note))


@fuzz_settings("seed-mutations")
@given(inputs.project_mutations())
def test_the_projects_own_documents_damaged(case):
    with fuzzing.stub_ocr():
        run("seed-mutations", case)
