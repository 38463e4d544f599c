"""Text from pictures of text, offline: images (.png, .jpg, .tiff) and PDF pages without a text layer.

Two engines read a page image:

- ``tesseract``: the ``tesseract`` program (Debian ``tesseract-ocr``), the default where it is installed:
  on rendered pages it reads 99.9% of characters right against rapidocr's 99.6%, and 2-5 times as fast
  (bench/ocr.py, docs/BENCHMARKS.md).
- ``rapidocr``: PP-OCRv4 detection and recognition on ONNX Runtime, from the ``rapidocr-onnxruntime``
  wheel, whose models ship inside it (no download, no system package): the default everywhere else.

Nothing here is imported until a document needs OCR, so folders without scans index as fast as before.
Text read by OCR keeps its page (``Section.ocr`` marks it, ``Section.confidence`` holds the engine's
mean confidence in it: a citation says "p. 3 (OCR, 91%)"), because it can hold misread words. A page's
lines are joined into running text (``reflow``), so a sentence is not cut at the page's line breaks.
Images are checked before they are decoded: an empty file, a file that is not an image, or one over
``MAX_PIXELS`` is refused with a one-line reason, never decoded into memory.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import statistics
import subprocess
import threading
import warnings
import weakref
from collections import OrderedDict
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
    """PP-OCRv4 on ONNX Runtime (rapidocr-onnxruntime): its detector finds the text lines, its recogniser
    reads each one; ``lines_to_text`` puts them back in reading order.

    The recogniser (a Chinese + English model, the only one in the wheel) often runs English words
    together: "providing$16billionineconomic". Where it does, the spaces are put back from the picture
    itself (``word_gaps``): a blank stretch of the line wider than the gaps between letters is a space,
    placed between the two characters the recogniser saw on either side of it."""

    name = "rapidocr"

    def __init__(self) -> None:
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        from rapidocr_onnxruntime import RapidOCR

        # upright scans: the text-direction classifier only costs time
        self.engine = RapidOCR(use_cls=False)
        self._lock = threading.Lock()  # one ONNX session set; calls take turns

    def read(self, image) -> OcrPage:
        import numpy as np

        pixels = np.asarray(image.convert("RGB"))
        with self._lock:
            found, _ = self.engine(pixels, use_cls=False, use_rec=False)  # line boxes, in ``pixels``' coordinates
            if not found:
                return OcrPage("", None)
            crops = self.engine.get_crop_img_list(pixels, [np.array(box, dtype=np.float32) for box in found])
            read, _ = self.engine.text_rec(crops, return_word_box=True)
        gaps = [word_gaps(crop) for crop in crops]
        limit = space_width([ratio for line in gaps for _, ratio in line])
        lines, scores = [], []
        for box, crop, (text, score, columns), line_gaps in zip(found, crops, read, gaps):
            if score < TEXT_SCORE or not text.strip():  # rapidocr's own cut: a "line" read with little confidence is noise
                continue
            # the page's confidence: the mean of its characters' scores (a line's score is its characters' mean)
            chars = columns[4] if len(columns) > 4 and len(columns[4]) == len(text) else [float(score)] * len(text)
            scores.extend(chars)
            text = with_spaces(text, char_positions(columns, crop.shape[1]), [x for x, ratio in line_gaps if ratio >= limit])
            lines.append((box, text, float(score)))
        if not lines:
            return OcrPage("", None)
        return OcrPage(lines_to_text(lines), statistics.fmean(scores))


TEXT_SCORE = 0.5  # rapidocr's default: lines read with a lower mean character score are dropped
SPACE_MIN, SPACE_MAX, SPACE_DEFAULT = 0.16, 0.30, 0.22  # a word gap, as a share of the line's ink height


def word_gaps(crop) -> list[tuple[float, float]]:
    """The blank column runs between the first and last ink of a text line's picture: (middle x, width as
    a share of the line's ink height). Ink is darker than halfway between the crop's lightest and
    darkest grey, so it holds for grey scans and coloured backgrounds."""
    import numpy as np

    grey = crop.mean(axis=2) if crop.ndim == 3 else crop.astype(float)
    low, high = float(grey.min()), float(grey.max())
    if high - low < 40:  # no contrast: nothing to measure
        return []
    ink = grey < (low + high) / 2
    per_row = ink.sum(axis=1)
    rows = np.flatnonzero(per_row > 0.05 * per_row.max())  # a neighbour line's stray descender is not height
    height = rows[-1] - rows[0] + 1
    columns = ink.any(axis=0)
    xs = np.flatnonzero(columns)
    if len(xs) < 2 or height < 4:
        return []
    inner = columns[xs[0]:xs[-1] + 1]
    edges = np.flatnonzero(np.diff(inner.astype(np.int8)))  # ink->blank at a, blank->ink at b
    starts, ends = edges[0::2] + 1, edges[1::2] + 1
    return [(xs[0] + (a + b) / 2, (b - a) / height) for a, b in zip(starts, ends)]


def space_width(ratios: list[float]) -> float:
    """The gap width (share of the ink height) that separates words on a page: gaps between letters and
    gaps between words form two groups, split where Otsu's method puts the line between them (about 0.2
    for book and office fonts); a page with too few gaps to tell gets the usual 0.22."""
    if len(ratios) < 30:
        return SPACE_DEFAULT
    values = sorted(ratios)
    n, total, running, best, split = len(values), sum(values), 0.0, -1.0, SPACE_DEFAULT
    for i in range(1, n):
        running += values[i - 1]
        low, high = running / i, (total - running) / (n - i)
        spread = i * (n - i) * (low - high) ** 2
        if spread > best:
            best, split = spread, (values[i - 1] + values[i]) / 2
    return min(max(split, SPACE_MIN), SPACE_MAX)


def char_positions(columns, width: int) -> list[float]:
    """Where each recognised character stands in its line's picture (x): the recogniser's output column
    for it (rapidocr's word-box data: [columns over the picture, words, their columns, ...])."""
    try:
        count = float(columns[0])
        return [(c + 0.5) / count * width for word in columns[2] for c in word]
    except (TypeError, IndexError, ZeroDivisionError):
        return []


def with_spaces(text: str, positions: list[float], gaps: list[float]) -> str:
    """``text`` with a space wherever a word gap (its middle x) lies between two characters that the
    recogniser wrote together; spaces it did write are kept. Never inside a number (before a digit that
    follows a digit, or a digit's "," or "."): figures are usually all one width, so a narrow one ("1")
    stands between wide margins that look like a word gap ("$1 6 billion", "2, 140"), while two numbers
    written apart are rare."""
    if len(positions) != len(text) or not gaps:
        return text
    out, g = [text[0]], 0
    for i in range(1, len(text)):
        while g < len(gaps) and gaps[g] <= positions[i - 1]:
            g += 1
        if (g < len(gaps) and gaps[g] < positions[i] and text[i] != " " and out[-1] != " "
                and not _inside_number(text, i)):
            out.append(" ")
        out.append(text[i])
    return "".join(out)


def _inside_number(text: str, i: int) -> bool:
    """Whether ``text[i]`` continues a number: a digit after a digit, or after a digit's "," or "."."""
    if not text[i].isdigit():
        return False
    before = text[i - 1]
    return before.isdigit() or (before in ",." and i >= 2 and text[i - 2].isdigit())


class Tesseract:
    """The ``tesseract`` program, English model, automatic page segmentation."""

    name = "tesseract"

    def __init__(self) -> None:
        self.program = shutil.which("tesseract")
        if self.program is None:
            raise DocumentError("OCR needs rapidocr-onnxruntime or the tesseract program (Debian: tesseract-ocr)")

    def read(self, image) -> OcrPage:
        import io
        import tempfile

        buffer = io.BytesIO()
        image.convert("L").save(buffer, format="PNG")
        with tempfile.TemporaryDirectory(prefix="qa-ocr-") as folder:
            base = Path(folder) / "page"  # page.tsv: each word with its box, line, paragraph and confidence
            try:
                done = subprocess.run([self.program, "stdin", str(base), "-l", "eng", "--psm", "3", "tsv"],
                                      input=buffer.getvalue(), capture_output=True, timeout=TESSERACT_SECONDS,
                                      check=False)
            except subprocess.TimeoutExpired as exc:
                raise DocumentError(f"OCR took over {TESSERACT_SECONDS} s on one page") from exc
            if done.returncode != 0:
                reason = (done.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[-1]
                raise DocumentError(f"tesseract failed ({reason})")
            try:
                tsv = (base.with_suffix(".tsv")).read_bytes().decode("utf-8", errors="replace")
            except FileNotFoundError:
                tsv = ""
        return tsv_page(tsv)


def tsv_page(tsv: str) -> OcrPage:
    """Tesseract's TSV output as a page: its paragraphs (blank lines between them), each ``reflow``ed from
    its lines, and the mean confidence of their characters (its ``conf`` column: 0-100 a word)."""
    paragraphs: dict[tuple[str, str, str], dict[str, list]] = {}  # (page, block, paragraph) -> line -> words
    total = weight = 0.0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        try:
            left, width, confidence = int(cells[6]), int(cells[8]), float(cells[10])
        except ValueError:
            continue
        word = " ".join(cells[11].split())
        paragraphs.setdefault((cells[1], cells[2], cells[3]), {}).setdefault(cells[4], []).append(
            (left, left + width, word))
        if confidence >= 0:
            total += len(word) * min(confidence, 100.0) / 100
            weight += len(word)
    text = "\n\n".join(
        reflow([(min(w[0] for w in words), max(w[1] for w in words), " ".join(w[2] for w in words))
                for words in lines.values()])
        for lines in paragraphs.values())
    return OcrPage(text, total / weight if weight and text else None)


ENGINES = {"rapidocr": RapidOcr, "tesseract": Tesseract}
_engines: dict[str, object] = {}
_engines_lock = threading.Lock()


def engine(name: str | None = None):
    """The OCR engine called ``name`` (made once per process), or the default: tesseract where the
    program is installed (more accurate and faster on rendered pages: docs/BENCHMARKS.md, OCR), else
    rapidocr, which needs nothing but its wheel."""
    with _engines_lock:
        if name is None:
            name = "tesseract" if shutil.which("tesseract") else "rapidocr"
        if name not in _engines:
            _engines[name] = ENGINES[name]()
        return _engines[name]


def lines_to_text(boxes: list[tuple[list, str, float]]) -> str:
    """Text lines found anywhere on a page (4-point box, text, score) in reading order: top to bottom,
    boxes on the same line left to right; a gap taller than a line between two lines is a paragraph,
    whose lines are joined as ``reflow`` does."""
    items = []
    for box, text, _ in boxes:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        items.append((min(ys), max(ys), min(xs), max(xs), " ".join(text.split())))
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
    paragraphs: list[list[tuple[float, float, str]]] = []
    previous_bottom = None
    for row in rows:
        row.sort(key=lambda t: t[2])
        top = min(i[0] for i in row)
        if previous_bottom is None or top - previous_bottom > height:
            paragraphs.append([])
        paragraphs[-1].append((row[0][2], max(i[3] for i in row), " ".join(i[4] for i in row)))
        previous_bottom = max(i[1] for i in row)
    return "\n\n".join(reflow(lines) for lines in paragraphs)


def reflow(lines: list[tuple[float, float, str]]) -> str:
    """One paragraph's lines (left x, right x, text) as running text. A line that was broken only because
    the next word did not fit (the room left at its end, up to the paragraph's right edge, is narrower
    than that word) goes on with a space: the page's line breaks are its layout, and a sentence cut at
    one ("... Japanese Foreign Minister / Motegi Toshimitsu affirmed ...") would read as two. A line
    that stops short (a heading, a list item, a paragraph's last line) keeps its line break. A word
    hyphenated at the end of a line is joined with its hyphen: "de-" "mining" gives "de-mining"."""
    lines = [line for line in lines if line[2]]
    if not lines:
        return ""
    right_edge = max(right for _, right, _ in lines)
    out = [lines[0][2]]
    for (left, right, text), (_, _, following) in itertools.pairwise(lines):
        per_char = (right - left) / max(len(text), 1)
        next_word = len(following.split(" ", 1)[0]) + 1  # and the space before it
        if right_edge - right < 1.5 * next_word * per_char:
            out.append("" if text.endswith("-") and following[:1].islower() else " ")
        else:
            out.append("\n")
        out.append(following)
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


_read_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> {picture digest: OcrPage}
_read_cache_lock = threading.Lock()


def read_page(ocr, image) -> OcrPage:
    """``ocr.read(image)``, remembered by the picture's pixels (the last ``MAX_PAGES`` pages per engine):
    a file read twice, as an upload is (checked before it is saved, then indexed), is OCR'd once."""
    import hashlib

    digest = hashlib.sha256(f"{image.mode} {image.size}".encode() + image.tobytes()).digest()
    with _read_cache_lock:
        try:
            pages = _read_cache.setdefault(ocr, OrderedDict())
        except TypeError:  # an engine that cannot be weakly referenced is not cached
            pages = None
        if pages is not None and digest in pages:
            pages.move_to_end(digest)
            return pages[digest]
    page = ocr.read(image)
    if pages is not None:
        with _read_cache_lock:
            pages[digest] = page
            while len(pages) > MAX_PAGES:
                pages.popitem(last=False)
    return page


def read_pages(pages, engine_name: str | None = None) -> dict[int, OcrPage]:
    """OCR of (page number, PIL image) pairs."""
    ocr = engine(engine_name)
    return {number: read_page(ocr, _for_ocr(image)) for number, image in pages}


def add_ocr_page(builder: TextBuilder, number: int, page: OcrPage, empty: list[int]) -> None:
    """One OCR page into a document's text; an empty one goes to ``empty`` (see ``report_empty``)."""
    if not page.text.strip():
        empty.append(number)
        return
    builder.section(page=number, ocr=True, confidence=page.confidence)
    builder.add(page.text)


def report_empty(where: Path, numbers: list[int], builder: TextBuilder, reason: str = "no text found by OCR") -> None:
    """Pages left out of a document that still has text (OCR found no text on them, or ``reason``) go into
    its ``left_out``, which ``qa index`` lists under the file; a document without any text is skipped as a
    whole, with its reason."""
    if numbers and builder.text().strip():
        shown = ", ".join(map(str, numbers[:20])) + (f" and {len(numbers) - 20} more" if len(numbers) > 20 else "")
        builder.left_out.append(f"page{'s' if len(numbers) > 1 else ''} {shown}: {reason}")
        log.debug("%s: %s", where.name, builder.left_out[-1])


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
                add_ocr_page(builder, number, read_page(ocr, frame), empty)
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
