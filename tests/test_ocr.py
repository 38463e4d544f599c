"""Scans are read offline by OCR: an image of text and a PDF page without a text layer are answered with
exact citations located 'p. N (OCR)'; an empty, blank, fake or gigantic image is skipped with one line,
in bounded time and memory, and nothing else in the folder is lost."""

import re
import struct
import zlib

import pytest

from qa import Answerer
from qa.errors import DocumentError
from qa.ingest.documents import load_document

from .conftest import run_qa
from .fixtures import make_pdf, skip_reasons

IMAGE_LINES = ["The Kestrel Bridge was opened in 1931.", "Its chief engineer was Marta Olsen."]
SCAN_LINES = ["The Tarn observatory stands at 2,140 metres.", "It was founded by Elsa Brandt."]


def text_image(lines, size=(1100, 260)):
    """A picture of text, as a scanner or a phone would make (Pillow's bundled font: no system fonts)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", size, 255)
    ImageDraw.Draw(image).multiline_text((40, 40), "\n".join(lines), font=ImageFont.load_default(40), fill=0,
                                         spacing=24)
    return image


def make_scanned_pdf(path, tmp, lines=SCAN_LINES):
    """Page 1 with a text layer, page 2 only a picture of text (of ``lines``: none, a blank scan)."""
    from fpdf import FPDF

    png = tmp / f"scan-page-{len(lines)}.png"
    text_image(lines).save(png)
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "The Tarn observatory report has two pages.")
    pdf.add_page()
    pdf.image(str(png), x=10, y=10, w=190)
    pdf.output(str(path))
    return path


def huge_png(path, side=20_000):
    """A real, valid 20,000 x 20,000 px black-and-white PNG (50 KB on disk, 400 megapixels decoded)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\0" * (1 + side // 8)
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def scans(tmp_path_factory, embedder):
    corpus = tmp_path_factory.mktemp("scans")
    tmp = tmp_path_factory.mktemp("scans-tmp")
    text_image(IMAGE_LINES).save(corpus / "bridge.png")
    make_scanned_pdf(corpus / "tarn.pdf", tmp)
    make_pdf(corpus / "aral.pdf")  # a PDF with a text layer: no OCR
    (corpus / "zero.jpg").write_bytes(b"")
    (corpus / "fake.tiff").write_text("not an image at all")
    huge_png(corpus / "huge.png")
    text_image([]).save(corpus / "blank.png")
    make_scanned_pdf(corpus / "half-blank.pdf", tmp, lines=[])  # a text page and a blank scanned page
    index = tmp_path_factory.mktemp("scans-index")
    result = run_qa("index", corpus, "--index", index, "-q")
    return corpus, index, result, Answerer(index, embedder=embedder)


def test_bad_images_are_skipped_with_one_line_and_the_scans_indexed(scans):
    _, _, result, _ = scans
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    reasons = skip_reasons(result.stderr)
    assert set(reasons) == {"zero.jpg", "fake.tiff", "huge.png", "blank.png", "half-blank.pdf, page 2"}
    assert "empty file" in reasons["zero.jpg"]
    assert "not a readable image" in reasons["fake.tiff"]
    assert "image is 400 megapixels, over the 60-megapixel limit" in reasons["huge.png"]
    assert reasons["blank.png"] == "skipped blank.png: no text found by OCR"  # the whole file: nothing in it
    # a PDF whose other page has text is indexed; its blank scanned page is listed, not only logged
    assert reasons["half-blank.pdf, page 2"] == "skipped half-blank.pdf, page 2: no text found by OCR"
    assert "4 added" in result.stdout and "4 files skipped" in result.stdout
    assert "pages skipped in 1 files" in result.stdout


@pytest.mark.parametrize("question,source,answer,location", [
    ("Who was the chief engineer of the Kestrel Bridge?", "bridge.png", "Marta Olsen", "p. 1 (OCR)"),
    ("Who founded the Tarn observatory?", "tarn.pdf", "Elsa Brandt", "p. 2 (OCR)"),
    ("By 2007 the Aral Sea had declined to what share of its original size?", "aral.pdf", "10 percent", "p. 2"),
])
def test_ocr_text_is_answered_with_an_exact_citation_marked_ocr(scans, question, source, answer, location):
    *_, answerer = scans
    result = answerer.ask(question)
    assert result.found
    c = result.citations[0]
    assert c.source == source and answer in result.answer
    assert answerer.document_text(source)[c.start:c.end] == result.answer
    # an OCR page's citation carries the engine's confidence in it: 'p. 2 (OCR, 94%)'
    shown = re.sub(r" \(OCR, \d\d?%\)$", " (OCR)", c.location)
    assert shown == location and c.ocr == location.endswith("(OCR)")
    assert (shown != c.location) == c.ocr, "the stored page lost its OCR confidence"
    assert result.to_dict()["citations"][0]["location"] == c.location


def test_a_huge_image_is_refused_from_its_header_without_decoding(tmp_path):
    import tracemalloc

    path = huge_png(tmp_path / "huge.png")
    tracemalloc.start()
    with pytest.raises(DocumentError, match="megapixel limit"):
        load_document(path)
    assert tracemalloc.get_traced_memory()[1] < 20 * 1024 * 1024
    tracemalloc.stop()


def test_lines_come_back_in_reading_order_as_paragraphs_of_running_text():
    """Boxes on one line left to right; a line broken only because the next word did not fit runs on
    (a sentence is not cut at the page's line breaks), a short one keeps its break; a gap is a paragraph."""
    from qa.ingest.ocr import lines_to_text

    def box(x, y, w=100, h=20):
        return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]

    boxes = [(box(160, 0, 140), "Minister", 0.9), (box(0, 2, 150), "the Foreign", 0.9),
             (box(0, 25, 150), "Motegi spoke.", 0.9), (box(0, 50, 50), "Notes", 0.9),
             (box(0, 120), "paragraph", 0.9),
             (box(0, 200, 300), "a de-", 0.9), (box(0, 225, 100), "mining effort", 0.9)]
    assert lines_to_text(boxes) == "the Foreign Minister Motegi spoke.\nNotes\n\nparagraph\n\na de-mining effort"


def test_tesseract_words_become_paragraphs_with_their_mean_confidence():
    from qa.ingest.ocr import tsv_page

    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [(1, 1, 1, 1, 0, 100, 100, 100, "Japanese"), (1, 1, 1, 2, 120, 100, 80, 100, "Minister"),
            (1, 1, 2, 1, 0, 130, 60, 100, "Motegi"), (2, 1, 1, 1, 0, 300, 50, 50, "Later")]
    words = [f"5\t1\t{b}\t{p}\t{line}\t{n}\t{x}\t{y}\t{w}\t20\t{conf}\t{text}"
             for b, p, line, n, x, y, w, conf, text in rows]
    page = tsv_page("\n".join([header, "4\t1\t1\t1\t1\t0\t0\t100\t200\t20\t-1\t", *words]))
    assert page.text == "Japanese Minister Motegi\n\nLater"
    assert page.confidence == pytest.approx((8 + 8 + 6 + 5 * 0.5) / 27)
    assert tsv_page(header) == tsv_page("")  # nothing read: no text, no confidence


@pytest.mark.parametrize("name", ["rapidocr", "tesseract"])
def test_each_engine_reads_a_picture_of_text(name):
    import shutil

    from qa.ingest import ocr

    if name == "tesseract" and not shutil.which("tesseract"):
        pytest.skip("tesseract is not installed (Debian: tesseract-ocr)")
    page = ocr.engine(name).read(text_image(IMAGE_LINES))
    assert "Marta Olsen" in page.text and "1931" in page.text
    assert 0.5 < page.confidence <= 1  # the mean of its characters' confidences
    assert ocr.engine(name).read(text_image([])) == ocr.OcrPage("", None)


def test_a_blank_scanned_page_is_reported_with_the_document_and_the_rest_indexed(tmp_path, embedder):
    from qa import build_index

    corpus = tmp_path / "docs"
    corpus.mkdir()
    make_scanned_pdf(corpus / "half-blank.pdf", tmp_path, lines=[])
    doc = load_document(corpus / "half-blank.pdf")
    assert doc.left_out == ["page 2: no text found by OCR"] and "two pages" in doc.text
    report = build_index(corpus, tmp_path / "index", embedder=embedder, progress=False)
    assert report.added == ["half-blank.pdf"] and not report.skipped
    assert [(s.source, s.reason) for s in report.skipped_pages] == [("half-blank.pdf", "page 2: no text found by OCR")]
    assert "pages skipped in 1 files" in report.summary()


class CountingOcr:
    """An OCR engine that counts its calls: 'reads' any picture with dark pixels as one fixed sentence."""

    name = "counting"

    def __init__(self):
        self.calls = 0

    def read(self, image):
        from qa.ingest.ocr import OcrPage

        self.calls += 1
        dark = image.convert("L").getextrema()[0] < 128
        return OcrPage("The Kestrel Bridge was opened in 1931." if dark else "", 0.9 if dark else None)


def test_an_upload_is_read_by_ocr_once_not_again_when_indexed(tmp_path, embedder, monkeypatch):
    from qa import build_index
    from qa.ingest import ocr
    from ui.service import Service

    docs, upload = tmp_path / "docs", tmp_path / "upload"
    docs.mkdir()
    upload.mkdir()
    (docs / "notes.txt").write_text("The Aral Sea lies between Kazakhstan and Uzbekistan.\n")
    build_index(docs, tmp_path / "index", embedder=embedder, progress=False)
    text_image(IMAGE_LINES).save(upload / "bridge.png")
    make_scanned_pdf(upload / "tarn.pdf", tmp_path)
    counting = CountingOcr()
    monkeypatch.setattr(ocr, "_engines", {"rapidocr": counting, "tesseract": counting})
    service = Service(Answerer(tmp_path / "index", embedder=embedder), docs)
    result = service.add_files([(str(upload / "bridge.png"), "bridge.png"), (str(upload / "tarn.pdf"), "tarn.pdf")])
    assert result["ok"] and sorted(result["added"]) == ["bridge.png", "tarn.pdf"], result
    # one picture, one scanned PDF page: each OCR'd once (checked before saving, then indexed from that read)
    assert counting.calls == 2
    # a changed file is read again
    text_image(SCAN_LINES).save(upload / "bridge.png")
    assert service.add_files([(str(upload / "bridge.png"), "bridge.png")])["updated"] == ["bridge.png"]
    assert counting.calls == 3


def test_ocr_pages_carry_the_engines_confidence(scans):
    corpus, *_ = scans
    pdf = load_document(corpus / "tarn.pdf")
    text_page, scanned_page = pdf.sections
    assert (text_page.ocr, text_page.confidence) == (False, None)
    assert scanned_page.ocr and scanned_page.page == 2 and 0.5 < scanned_page.confidence <= 1
    image = load_document(corpus / "bridge.png")
    assert [(s.page, s.ocr) for s in image.sections] == [(1, True)] and 0.5 < image.sections[0].confidence <= 1


def test_a_citation_of_an_ocr_page_shows_its_confidence():
    import dataclasses

    from qa.answer.results import Citation
    from qa.ingest.documents import Section
    from ui.render import place_label

    def cite(section):  # as the pipeline cites a span from the section it stands in
        return Citation("scans/letter.pdf", section.page, section.heading, 10, 20, "Elsa Brandt", "...", 0, 30,
                        title="Letter", ocr=section.ocr, ocr_confidence=section.confidence)

    read = cite(Section(0, page=3, ocr=True, confidence=0.914))
    assert read.location == "p. 3 (OCR, 91%)"
    assert place_label(read) == place_label(dataclasses.asdict(read)) == "Letter — p. 3 (OCR, 91%)"
    assert cite(Section(0, page=3, ocr=True, confidence=0.9999)).location == "p. 3 (OCR, 99%)"  # never "100%"
    assert cite(Section(0, page=3, ocr=True)).location == "p. 3 (OCR)"  # confidence not known (an older index)
    assert cite(Section(0, page=3)).location == "p. 3"
    assert place_label({"source": "a.pdf", "page": 2, "ocr": True, "ocr_confidence": None}) == "a.pdf — p. 2 (OCR)"


def test_rapidocr_spaces_come_back_from_the_gaps_in_the_picture():
    """The recogniser runs English words together; the blank stretches of the line put the spaces back,
    but never inside a number (a narrow "1" between wide margins)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from qa.ingest.ocr import space_width, with_spaces, word_gaps

    image = Image.new("L", (900, 70), 255)
    ImageDraw.Draw(image).text((10, 10), "providing $16 billion in aid", font=ImageFont.load_default(40), fill=0)
    gaps = word_gaps(np.asarray(image.convert("RGB")))
    wide = [x for x, ratio in gaps if ratio >= space_width([r for _, r in gaps])]
    assert len(wide) == 4  # between the five words, none between letters
    text = "providing$16billioninaid"
    positions = [x + 10 for x in range(0, 2400, 100)]  # one character every 100 px
    gaps_at = [860, 1060, 1160, 1860, 2060]  # after "providing", inside "16", after it, "billion" and "in"
    assert with_spaces(text, positions, gaps_at) == "providing $16 billion in aid"
    assert with_spaces("Its chief", [0, 10, 20, 30, 40, 50, 60, 70, 80], [35]) == "Its chief"  # its own space kept
