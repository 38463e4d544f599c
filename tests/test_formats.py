"""Word, PowerPoint, EPUB, OpenDocument and RTF files, made here with the libraries that write them, are
indexed and answered with exact citations and the right location; damaged, locked and hostile ones are
skipped with one line each, and nothing else in the folder is lost."""

import zipfile

import pytest

from qa import Answerer
from qa.errors import DocumentError
from qa.ingest.documents import load_document

from .conftest import run_qa
from .fixtures import skip_reasons


def make_docx(path):
    import docx

    d = docx.Document()
    d.core_properties.title = "Harbour Report"
    d.add_heading("Harbour Report", 0)
    d.add_paragraph("The harbour of Veldmar was dredged in 1988.")
    d.add_heading("Traffic", 1)
    d.add_paragraph("In 2023 the harbour of Veldmar handled 4.2 million tonnes of cargo.")
    table = d.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Pier", (0, 1): "Length", (1, 0): "North pier", (1, 1): "640 metres"}.items():
        table.cell(r, c).text = text
    d.save(path)
    return path


def make_pptx(path):
    from pptx import Presentation

    p = Presentation()
    for title, body in (("Budget", "The budget of the Orla project for 2025 is 3 million euros."),
                        ("Staff", "The Orla project employs 41 engineers in Tampere.")):
        slide = p.slides.add_slide(p.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    p.save(path)
    return path


def make_epub(path):
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("skarn-1")
    book.set_title("The Lighthouse Keeper")
    book.set_language("en")
    chapters = [
        ("c1.xhtml", "<h1>Chapter One</h1><p>The lighthouse at Skarn was built in 1874.</p>"),
        ("c2.xhtml", "<h1>Chapter Two</h1><p>The keeper of the Skarn lighthouse was Ingrid Holm.</p>"),
    ]
    items = []
    for name, html in chapters:
        item = epub.EpubHtml(title=name, file_name=name)
        item.content = html
        book.add_item(item)
        items.append(item)
    book.toc, book.spine = items, items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    epub.write_epub(str(path), book)
    return path


def make_odt(path):
    from odf.dc import Title
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.meta.addElement(Title(text="Orchard Notes"))
    doc.text.addElement(H(outlinelevel=1, text="Apples"))
    doc.text.addElement(P(text="The orchard at Brenn has 312 apple trees."))
    doc.save(str(path))
    return path


RTF = rb"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Caf\'e9 Rouge opened in Lyon in 1962.\par}"


def make_zip_bomb(path):
    """A 'Word document' whose one part inflates to 300 MB of zeros (about 300 KB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            block = b"\0" * (1 << 20)
            for _ in range(300):
                f.write(block)
    return path


GOOD = {"harbour.docx": make_docx, "orla.pptx": make_pptx, "skarn.epub": make_epub, "orchard.odt": make_odt}


@pytest.fixture(scope="module")
def formats(tmp_path_factory, embedder):
    corpus = tmp_path_factory.mktemp("formats")
    for name, make in GOOD.items():
        make(corpus / name)
    (corpus / "cafe.rtf").write_bytes(RTF)
    (corpus / "plain.txt").write_text("The Veldmar ferry leaves at seven o'clock.")
    # bad files beside them
    (corpus / "empty.docx").write_bytes(b"")
    (corpus / "cut.pptx").write_bytes(make_pptx(corpus.parent / "whole.pptx").read_bytes()[:3000])
    (corpus / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)  # an encrypted OOXML
    make_zip_bomb(corpus / "bomb.docx")
    (corpus / "notzip.epub").write_text("this is not a book")
    (corpus / "bad.rtf").write_text("plain words, no RTF header")
    index = tmp_path_factory.mktemp("formats-index")
    result = run_qa("index", corpus, "--index", index, "-q")
    return corpus, index, result, Answerer(index, embedder=embedder)


def test_bad_office_files_are_skipped_with_one_line_and_the_rest_indexed(formats):
    corpus, index, result, _ = formats
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    reasons = skip_reasons(result.stderr)
    assert "empty file" in reasons["empty.docx"]
    assert "damaged PowerPoint" in reasons["cut.pptx"]
    assert "password-protected" in reasons["locked.docx"]
    assert "zip bomb" in reasons["bomb.docx"]
    assert "not a valid zip" in reasons["notzip.epub"]
    assert "not an RTF file" in reasons["bad.rtf"]
    assert "6 added" in result.stdout
    stats = run_qa("stats", "--index", index)
    assert "by type:" in stats.stdout and "docx 1" in stats.stdout and "epub 1" in stats.stdout


@pytest.mark.parametrize("question,source,answer,location,title", [
    ("How much cargo did the harbour of Veldmar handle in 2023?", "harbour.docx", "4.2 million tonnes", "Traffic",
     "Harbour Report"),
    ("How long is the North pier?", "harbour.docx", "640 metres", "Traffic", "Harbour Report"),
    ("How many engineers does the Orla project employ?", "orla.pptx", "41", "slide 2: Staff", "Budget"),
    ("When was the lighthouse at Skarn built?", "skarn.epub", "1874", "Chapter One", "The Lighthouse Keeper"),
    ("Who was the keeper of the Skarn lighthouse?", "skarn.epub", "Ingrid Holm", "Chapter Two",
     "The Lighthouse Keeper"),
    ("How many apple trees does the orchard at Brenn have?", "orchard.odt", "312", "Apples", "Orchard Notes"),
    ("When did Café Rouge open in Lyon?", "cafe.rtf", "1962", None, "Café Rouge opened in Lyon in 1962."),
])
def test_each_format_answers_with_an_exact_citation_and_its_location(formats, question, source, answer, location,
                                                                     title):
    *_, answerer = formats
    result = answerer.ask(question)
    assert result.found, result.passages[:1]
    c = result.citations[0]
    assert c.source == source and answer in result.answer
    assert answerer.document_text(source)[c.start:c.end] == result.answer
    assert c.location == location and c.title == title and not c.ocr


def test_docx_keeps_tables_as_rows_and_headings_as_sections(tmp_path):
    doc = load_document(make_docx(tmp_path / "h.docx"))
    assert "North pier | 640 metres" in doc.text
    assert [s.heading for s in doc.sections] == ["Harbour Report", "Traffic"]
    assert doc.kind == "docx"


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    import tracemalloc

    path = make_zip_bomb(tmp_path / "bomb.docx")
    tracemalloc.start()
    with pytest.raises(DocumentError, match="zip bomb"):
        load_document(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
