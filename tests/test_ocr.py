"""Scans are read offline by OCR: an image of text and a PDF page without a text layer are answered with
exact citations located 'p. N (OCR)'; an empty, blank, fake or gigantic image is skipped with one line,
in bounded time and memory, and nothing else in the folder is lost."""

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


def make_scanned_pdf(path, tmp):
    """Page 1 with a text layer, page 2 only a picture of text."""
    from fpdf import FPDF

    png = tmp / "scan-page.png"
    text_image(SCAN_LINES).save(png)
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
    index = tmp_path_factory.mktemp("scans-index")
    result = run_qa("index", corpus, "--index", index, "-q")
    return corpus, index, result, Answerer(index, embedder=embedder)


def test_bad_images_are_skipped_with_one_line_and_the_scans_indexed(scans):
    corpus, index, result, _ = scans
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    reasons = skip_reasons(result.stderr)
    assert set(reasons) == {"zero.jpg", "fake.tiff", "huge.png", "blank.png"}
    assert "empty file" in reasons["zero.jpg"]
    assert "not a readable image" in reasons["fake.tiff"]
    assert "image is 400 megapixels, over the 60-megapixel limit" in reasons["huge.png"]
    assert "no text found by OCR" in reasons["blank.png"]
    assert "3 added" in result.stdout


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
    assert c.location == location and c.ocr == location.endswith("(OCR)")
    assert result.to_dict()["citations"][0]["location"] == location


def test_a_huge_image_is_refused_from_its_header_without_decoding(tmp_path):
    import tracemalloc

    path = huge_png(tmp_path / "huge.png")
    tracemalloc.start()
    with pytest.raises(DocumentError, match="megapixel limit"):
        load_document(path)
    assert tracemalloc.get_traced_memory()[1] < 20 * 1024 * 1024
    tracemalloc.stop()


def test_lines_come_back_in_reading_order_with_paragraph_gaps():
    from qa.ingest.ocr import lines_to_text

    def box(x, y, w=100, h=20):
        return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]

    boxes = [(box(200, 0), "right", 0.9), (box(0, 2), "left", 0.9), (box(0, 25), "next", 0.9),
             (box(0, 90), "paragraph", 0.9)]
    assert lines_to_text(boxes) == "left right\nnext\n\nparagraph"


@pytest.mark.parametrize("name", ["rapidocr", "tesseract"])
def test_each_engine_reads_a_picture_of_text(name):
    import shutil

    from qa.ingest import ocr

    if name == "tesseract" and not shutil.which("tesseract"):
        pytest.skip("tesseract is not installed (Debian: tesseract-ocr)")
    page = ocr.engine(name).read(text_image(IMAGE_LINES))
    assert "Marta Olsen" in page.text and "1931" in page.text
