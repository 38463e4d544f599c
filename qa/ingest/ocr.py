"""Text from pictures of text, offline: images (.png, .jpg, .tiff) and PDF pages without a text layer.

Two engines read a page image:

- ``tesseract``: the ``tesseract`` program (Debian ``tesseract-ocr``), the default where it is installed:
  on rendered pages it reads 99.9% of characters right against rapidocr's 96-98%, twice as fast
  (bench/ocr.py, docs/BENCHMARKS.md).
- ``rapidocr``: PP-OCRv4 detection and recognition on ONNX Runtime, from the ``rapidocr-onnxruntime``
  wheel, whose models ship inside it (no download, no system package): the default everywhere else.

Nothing here is imported until a document needs OCR, so folders without scans index as fast as before.
Text read by OCR keeps its page (``Section.ocr`` marks it: a citation says "p. 3 (OCR)"), because it
can hold misread words. Images are checked before they are decoded: an empty file, a file that is not
an image, or one over ``MAX_PIXELS`` is refused with a one-line reason, never decoded into memory.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import subprocess
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from qa.errors import DocumentError
from qa.ingest.documents import Extracted, TextBuilder, one_line

log = logging.getLogger(__name__)

MAX_PIXELS = 60_000_000  # e.g. 6,000 x 10,000 px; larger pictures are refused before decoding
MAX_PAGES = 2000  # frames of a TIFF / scanned pages of a PDF read at most
PDF_DPI = 200  # scanned PDF pages are rendered at this resolution for OCR
MAX_SIDE = 2400  # page images are scaled down to this longest side before OCR (time grows with pixels)
TESSERACT_SECONDS = 120  # one page at most


@dataclass(frozen=True)
class OcrPage:
    text: str
    confidence: float | None  # the engine's mean line confidence, 0..1 (None: not given)


# --- engines -----------------------------------------------------------------------------------------


class RapidOcr:
    """PP-OCRv4 on ONNX Runtime (rapidocr-onnxruntime). Lines come back as boxes; ``lines_to_text`` puts
    them back in reading order."""

    name = "rapidocr"

    def __init__(self) -> None:
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        from rapidocr_onnxruntime import RapidOCR

        # upright scans: the text-direction classifier only costs time
        self.engine = RapidOCR(use_cls=False)
        self._lock = threading.Lock()  # one ONNX session set; calls take turns

    def read(self, image) -> OcrPage:
        import numpy as np

        with self._lock:
            result, _ = self.engine(np.asarray(image.convert("RGB")), use_cls=False)
        boxes = [(box, text, float(score)) for box, text, score in (result or []) if text.strip()]
        if not boxes:
            return OcrPage("", None)
        return OcrPage(lines_to_text(boxes), statistics.fmean(b[2] for b in boxes))


class Tesseract:
    """The ``tesseract`` program, English model, automatic page segmentation."""

    name = "tesseract"

    def __init__(self) -> None:
        self.program = shutil.which("tesseract")
        if self.program is None:
            raise DocumentError("OCR needs rapidocr-onnxruntime or the tesseract program (Debian: tesseract-ocr)")

    def read(self, image) -> OcrPage:
        import io

        buffer = io.BytesIO()
        image.convert("L").save(buffer, format="PNG")
        try:
            done = subprocess.run([self.program, "stdin", "stdout", "-l", "eng", "--psm", "3"], input=buffer.getvalue(),
                                  capture_output=True, timeout=TESSERACT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise DocumentError(f"OCR took over {TESSERACT_SECONDS} s on one page") from exc
        if done.returncode != 0:
            reason = (done.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[-1]
            raise DocumentError(f"tesseract failed ({reason})")
        text = done.stdout.decode("utf-8", errors="replace").replace("\f", "")
        return OcrPage("\n".join(line.rstrip() for line in text.splitlines()).strip(), None)


ENGINES = {"rapidocr": RapidOcr, "tesseract": Tesseract}
_engines: dict[str, object] = {}
_engines_lock = threading.Lock()


def engine(name: str | None = None):
    """The OCR engine called ``name`` (made once per process), or the default: tesseract where the
    program is installed (more accurate and about twice as fast on rendered pages: docs/BENCHMARKS.md,
    OCR), else rapidocr, which needs nothing but its wheel."""
    with _engines_lock:
        if name is None:
            name = "tesseract" if shutil.which("tesseract") else "rapidocr"
        if name not in _engines:
            _engines[name] = ENGINES[name]()
        return _engines[name]


def lines_to_text(boxes: list[tuple[list, str, float]]) -> str:
    """Text lines found anywhere on a page (4-point box, text, score) in reading order: top to bottom,
    boxes on the same line left to right; a gap taller than a line between two lines is a paragraph."""
    items = []
    for box, text, _ in boxes:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        items.append((min(ys), max(ys), min(xs), " ".join(text.split())))
    items.sort(key=lambda t: (t[0] + t[1]) / 2)
    rows: list[list[tuple]] = []
    for item in items:
        if rows:
            top, bottom = min(i[0] for i in rows[-1]), max(i[1] for i in rows[-1])
            middle = (item[0] + item[1]) / 2
            if top <= middle <= bottom:
                rows[-1].append(item)
                continue
        rows.append([item])
    height = statistics.median(i[1] - i[0] for i in items) or 1
    out: list[str] = []
    previous_bottom = None
    for row in rows:
        row.sort(key=lambda t: t[2])
        top = min(i[0] for i in row)
        if previous_bottom is not None:
            out.append("\n\n" if top - previous_bottom > height else "\n")
        out.append(" ".join(i[3] for i in row))
        previous_bottom = max(i[1] for i in row)
    return "".join(out)


# --- images ------------------------------------------------------------------------------------------


def _for_ocr(image):
    """Greyscale (or RGB) pixels, scaled down to ``MAX_SIDE``: OCR time grows with the pixel count, and
    text at 200-300 dpi stays readable at that size."""
    from PIL import Image

    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    longest = max(image.size)
    if longest > MAX_SIDE:
        scale = MAX_SIDE / longest
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    return image


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise DocumentError(f"image is {width:,} x {height:,} px, over the {MAX_PIXELS / 1e6:.0f}-megapixel limit")


def _too_large(exc: Exception) -> DocumentError:
    """Pillow's own refusal of a gigantic image (it reads the header only), in our words."""
    import re

    found = re.search(r"\((\d+) pixels\)", str(exc))
    size = f"{int(found.group(1)) / 1e6:,.0f} megapixels" if found else "too many pixels"
    return DocumentError(f"image is {size}, over the {MAX_PIXELS / 1e6:.0f}-megapixel limit")


def read_pages(pages, engine_name: str | None = None) -> dict[int, OcrPage]:
    """OCR of (page number, PIL image) pairs."""
    ocr = engine(engine_name)
    return {number: ocr.read(_for_ocr(image)) for number, image in pages}


def add_ocr_page(builder: TextBuilder, number: int, page: OcrPage, empty: list[int]) -> None:
    """One OCR page into a document's text; an empty one goes to ``empty`` (see ``report_empty``)."""
    if not page.text.strip():
        empty.append(number)
        return
    builder.section(page=number, ocr=True)
    builder.add(page.text)


def report_empty(where: Path, empty: list[int], builder: TextBuilder) -> None:
    """Log the pages OCR found no text on, in a document that still has text (one without any is
    skipped as a whole, with its reason)."""
    if empty and builder.text().strip():
        shown = ", ".join(map(str, empty[:20])) + (" ..." if len(empty) > 20 else "")
        log.warning("%s: page%s %s skipped: no text found by OCR", where.name, "s" if len(empty) > 1 else "", shown)


def load_image(path: Path) -> Extracted:
    """An image (each frame of a multi-page TIFF a page) read by OCR."""
    from PIL import Image, UnidentifiedImageError

    if path.stat().st_size == 0:
        raise DocumentError("empty file (0 bytes), not an image")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_large(exc) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise DocumentError(f"not a readable image ({exc.__class__.__name__})") from exc
        except Exception as exc:  # noqa: BLE001 - Pillow's format plugins raise many types on damaged headers
            raise DocumentError(f"not a readable image ({one_line(exc)})") from exc
        with image:
            _check_size(*image.size)
            builder = TextBuilder()
            try:  # counting walks the frames' headers: on a damaged file it fails, and the frames are counted as read
                frames = getattr(image, "n_frames", 1)
            except Exception:  # noqa: BLE001
                frames = 0
            if frames > MAX_PAGES:
                raise DocumentError(f"image has {frames} pages, over the {MAX_PAGES}-page limit")
            ocr, empty, damage = engine(), [], None
            for number in range(1, MAX_PAGES + 2):
                try:
                    if number > 1:
                        try:
                            image.seek(number - 1)
                        except EOFError:  # no frame after the last
                            break
                    if number > MAX_PAGES:
                        raise DocumentError(f"image has over {MAX_PAGES} pages, the {MAX_PAGES}-page limit")
                    _check_size(*image.size)
                    image.load()
                    frame = _for_ocr(image)
                except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                    raise _too_large(exc) from exc
                except DocumentError:
                    raise
                except Exception as exc:  # noqa: BLE001 - OSError, ValueError, struct.error... on damaged data
                    # a damaged frame costs its own page, not the frames before it (a cut-off file)
                    damage = DocumentError(f"damaged image ({one_line(exc)})")
                    break
                add_ocr_page(builder, number, ocr.read(frame), empty)
    report_empty(path, empty, builder)
    extracted = builder.extracted()
    if not extracted.text.strip():
        raise damage or DocumentError("no text found by OCR")
    if damage is not None:
        log.warning("%s: %s; the pages before it are kept", path.name, damage)
    return extracted


# --- PDF pages ---------------------------------------------------------------------------------------


def render_pdf_pages(path: Path, numbers: list[int], dpi: int = PDF_DPI):
    """(page number, PIL image) of these 1-based pages, rendered with PDFium (pypdfium2) at ``dpi``,
    or less for pages so large that the picture would pass ``MAX_PIXELS``."""
    import pypdfium2 as pdfium

    if len(numbers) > MAX_PAGES:
        raise DocumentError(f"{len(numbers)} pages need OCR, over the {MAX_PAGES}-page limit")
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"cannot render PDF pages for OCR ({exc})") from exc
    try:
        for number in numbers:
            try:
                page = pdf[number - 1]
                width, height = page.get_size()  # points, 1/72 inch
                scale = min(dpi / 72, (MAX_PIXELS / max(width * height, 1)) ** 0.5)
                image = page.render(scale=scale, grayscale=True).to_pil()
                page.close()
            except (pdfium.PdfiumError, ValueError, IndexError, OverflowError, MemoryError) as exc:
                # a page PDFium cannot draw is skipped (and logged), never the rest of the document
                log.warning("%s: page %d cannot be rendered for OCR (%s)", path.name, number, exc)
                continue
            yield number, image
    finally:
        pdf.close()


def ocr_pdf_pages(path: Path, numbers: list[int], engine_name: str | None = None) -> dict[int, OcrPage]:
    """OCR of a PDF's pages that have no text layer."""
    return read_pages(render_pdf_pages(path, numbers), engine_name)
