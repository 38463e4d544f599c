"""What the loader fuzzers found, fixed: HTML nested deeper than the parser goes keeps its text, headings and
exact citations; UTF-16 and UTF-32 text without a byte-order mark is read, not refused as binary; an
encrypted PDF's skip reason names its real cause and the fix; a parser failure on a page never costs the
page's text."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qa import Answerer, build_index
from qa.errors import DocumentError
from qa.ingest import html_depth
from qa.ingest.documents import decode_text, html_to_text, load_document

from .conftest import ROOT
from .fixtures import HTML, make_pdf
from .fuzzing import check_document

BOREHOLE = "The Kola Superdeep Borehole reached a depth of 12,262 metres in 1989."


def deep_page(depth: int, opener: str = "<div>") -> str:
    return (f"<html><head><title>Deep</title></head><body><h1>Drilling records</h1>{opener * depth}"
            f"<h2>Borehole</h2><p>{BOREHOLE}</p><p>Drilling stopped when the rock grew too hot.</p></body></html>")


def test_a_20000_level_page_is_answered_with_an_exact_citation_in_its_section(tmp_path, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "deep.html").write_text(deep_page(20_000))
    index = tmp_path / "index"
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.added == ["deep.html"]
    answerer = Answerer(index, embedder=embedder)
    answer = answerer.ask("What depth did the Kola Superdeep Borehole reach?")
    assert answer.found and "12,262 metres" in answer.answer
    c = answer.citations[0]
    assert c.source == "deep.html"
    assert answerer.document_text("deep.html")[c.start:c.end] == answer.answer == c.text
    assert c.section == "Borehole"


@pytest.mark.parametrize("opener", ["<div>", "<font size=2>", "<ul><li>item", "<table><tr><td>", "<blockquote><span>"])
def test_deep_tag_soup_keeps_every_sentence_and_heading(tmp_path, opener):
    path = tmp_path / "soup.html"
    path.write_text(deep_page(20_000, opener))
    doc = load_document(path)
    check_document(doc)
    assert BOREHOLE in doc.text and "Drilling stopped" in doc.text
    assert [s.heading for s in doc.sections] == [None, "Drilling records", "Borehole"][-len(doc.sections):]
    assert doc.title == "Drilling records"
    borehole = doc.text.index(BOREHOLE)
    assert doc.locate(borehole).heading == "Borehole"


def test_pages_of_ordinary_depth_are_read_exactly_as_before():
    """Flattening only touches pages past the parser's depth: others keep their layout and offsets."""
    for page in (HTML, deep_page(100), "<p>one<p>two<p>three" * 200, "<div/>" * 50 + "text"):
        assert html_depth.flatten(page) is page


def test_flattened_markup_has_bounded_depth_and_keeps_scripts_hidden():
    page = "<div>" * 5000 + "<script>var hidden = '<p>scriptword</p>';</script><!-- <h1>commentword</h1> -->shown"
    flat = html_depth.flatten(page)
    assert flat.count("<div>") == html_depth.MAX_DEPTH
    text = html_to_text(page).text
    assert "shown" in text and "scriptword" not in text and "commentword" not in text


def test_when_the_html_parser_fails_the_text_still_comes_back(monkeypatch):
    from inscriptis import html_engine

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(html_engine, "Inscriptis", broken)
    extracted = html_to_text("<h1>Title</h1><p>The ferry leaves at seven.</p><script>x = 1</script>")
    assert extracted.text == "Title\n\nThe ferry leaves at seven."


def test_text_after_a_stray_end_html_tag_is_kept():
    """libxml2 stops at </html>; browsers, and now the loader, go on (pages pasted together, late footers)."""
    text = html_to_text("<html><body><p>First page.</p></body></html>\n<html><body><p>Second page.</p>").text
    assert "First page." in text and "Second page." in text


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("text", [BOREHOLE + "\nSecond line.\n", "Съешь же ещё этих мягких булок.\n", "東京 is big.\n"])
def test_utf16_and_utf32_without_a_bom_are_text(codec, text):
    assert decode_text(text.encode(codec)) == text


@pytest.mark.parametrize("data", [bytes(range(256)) * 20, b"\x89PNG\r\n\x1a\n" + bytes(200), b"\x00" * 64,
                                  "text\x00with a NUL".encode("utf-16-le")])
def test_binary_data_is_still_refused(data):
    with pytest.raises(DocumentError, match="binary data"):
        decode_text(data)


def _aes_pdf(tmp_path, user_password: str, algorithm: str = "AES-256"):
    from pypdf import PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf")
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    path = tmp_path / "aes.pdf"
    writer.write(str(path))
    return path


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_an_aes_pdf_without_cryptography_names_the_crypto_extra(tmp_path, algorithm):
    pytest.importorskip("cryptography")  # needed to make the file
    path = _aes_pdf(tmp_path, user_password="", algorithm=algorithm)
    assert "Aral Sea" in load_document(path).text  # opens where cryptography is installed
    # a process where cryptography (and pycryptodome) cannot be imported, as in an install without them
    code = ("import sys; sys.modules['cryptography'] = None; sys.modules['Crypto'] = None\n"
            "from qa.errors import DocumentError\nfrom qa.ingest.documents import load_document\n"
            f"try:\n    load_document({str(path)!r})\nexcept DocumentError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("encrypted PDF (AES): install the `crypto` extra (pip install 'qa-docs[crypto]') "
                                   "or remove the password")


def test_a_pdf_that_needs_a_password_says_so_and_how_to_fix_it(tmp_path):
    pytest.importorskip("cryptography")
    with pytest.raises(DocumentError) as exc:
        load_document(_aes_pdf(tmp_path, user_password="secret"))
    assert str(exc.value) == "encrypted PDF (password required): remove the password to index it"
