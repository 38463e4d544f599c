"""Turn files into plain text, remembering where pages (PDF) and headings (Markdown, HTML) start,
and what the document calls itself (its title).

The extracted text is the reference for every offset the engine reports: a citation's ``start:end``
slices this text, which the index stores verbatim.
"""

from __future__ import annotations

import bisect
import codecs
import dataclasses
import html as html_lib
import importlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from qa.config import SUPPORTED_SUFFIXES
from qa.errors import DocumentError
from qa.settings import ENV_MAX_FILE_MB


@dataclass(frozen=True)
class Section:
    """A stretch of a document's text that shares one page number or heading (a slide: "slide 3: Title")."""

    start: int
    page: int | None = None
    heading: str | None = None
    ocr: bool = False  # the text was read from an image (OCR): it may hold misread words
    confidence: float | None = None  # OCR pages only: the engine's mean character confidence, 0..1


@dataclass
class Document:
    source: str  # path relative to the corpus folder, with forward slashes
    kind: str  # txt, md, html, pdf, docx, pptx, epub, odt, rtf or image
    text: str
    sections: list[Section] = field(default_factory=list)
    title: str = ""  # for people: the document's own title, first heading or first line ("": use the file name)
    left_out: list[str] = field(default_factory=list)  # pages not indexed, each with why: "page 2: no text found by OCR"

    def locate(self, offset: int) -> Section:
        return locate(self.sections, offset)


def locate(sections: list[Section], offset: int) -> Section:
    """The section that contains character ``offset``."""
    if not sections:
        return Section(0)
    i = bisect.bisect_right([s.start for s in sections], offset) - 1
    return sections[max(i, 0)]


# --- decoding ---------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes) -> str:
    """Bytes to text: BOM, then UTF-8, then charset detection; binary data is refused."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise DocumentError(f"invalid {codec} text") from exc
    if b"\x00" in data:
        wide = _decode_wide(data)
        if wide is None:
            raise DocumentError("binary data, not text")
        return wide
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        # The detector gives up on short or odd texts (a few accented letters in English, made-up words).
        # Text in any 8-bit code page holds no control bytes but tab, line breaks and form feed; binary
        # data has them every few dozen bytes. Such text is read as Windows-1252 rather than lost.
        if _CONTROL_BYTES.search(data):
            raise DocumentError("binary data or unknown text encoding")
        return data.decode("cp1252", errors="strict") if _is_cp1252(data) else data.decode("latin-1")
    # Short Western European texts decode cleanly in several single-byte code pages, and the detector
    # breaks the tie alphabetically (cp1250 first: "à" becomes "ŕ"). Prefer Windows-1252 / Latin-1
    # when they read the bytes as well as the best guess does.
    for match in matches:
        if (match.encoding in _WESTERN and match.chaos <= best.chaos + 0.01
                and match.coherence >= best.coherence - 0.01):
            return str(match)
    return str(best)


_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True
# control characters no text holds (tab, line feed, form feed and carriage return are text)
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffe\uffff]")


def _decode_wide(data: bytes) -> str | None:
    """UTF-32 or UTF-16 text without a byte-order mark (Windows' "Unicode" text saved by some tools), or
    None for binary data. Such text has NUL bytes in the high half of its code units (every ASCII
    character, space and line break puts one there) and hardly any in the low half; it decodes strictly
    (binary data soon hits a lone surrogate or a code point past U+10FFFF) and holds no control
    characters."""
    candidates = []
    if len(data) % 4 == 0:
        candidates += [("utf-32-le", data[3::4], data[0::4]), ("utf-32-be", data[0::4], data[3::4])]
    even = data[: len(data) - len(data) % 2]  # a cut-off last byte is dropped
    candidates += [("utf-16-le", even[1::2], even[0::2]), ("utf-16-be", even[0::2], even[1::2])]
    for codec, high, low in candidates:
        zeros_high, zeros_low = high.count(0), low.count(0)
        if zeros_high < max(2, len(high) // 100) or zeros_low * 2 > zeros_high:
            continue
        try:
            text = (data if codec.startswith("utf-32") else even).decode(codec)
        except UnicodeDecodeError:
            continue
        if not _NOT_TEXT.search(text):
            return text
    return None


def one_line(exc: BaseException) -> str:
    """An exception as the tail of a one-line skip reason: its type and its message's first line."""
    first = (str(exc).strip().splitlines() or [""])[0][:120]
    name = exc.__class__.__name__
    if name == "error":  # zlib.error, struct.error: the bare name says nothing
        name = f"{exc.__class__.__module__}.error"
    return f"{name}: {first}" if first else name


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


# --- titles ------------------------------------------------------------------------------------------

TITLE_CHARS = 80
# what PDF producers write into the title field when nobody set one
_JUNK_TITLE = re.compile(r"^(untitled|microsoft (word|powerpoint) - .*|document\d*|title|\.+|-+)$", re.IGNORECASE)


def clean_title(raw: str | None, limit: int = TITLE_CHARS) -> str | None:
    """One line of at most ``limit`` characters (cut at a word, with '…'), or None when nothing usable."""
    text = " ".join(str(raw or "").split())
    if not text or _JUNK_TITLE.match(text) or not any(ch.isalnum() for ch in text):
        return None
    if len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit // 2 else cut).rstrip(" .,;:-") + "…"
    return text


def first_line(text: str) -> str | None:
    """The first line of ``text`` with a letter or digit in it, cleaned for a title."""
    for line in text.splitlines():
        title = clean_title(line)
        if title:
            return title
    return None


def fallback_title(source: str) -> str:
    """A document's file name: the title of a document that gave none (and of documents indexed before
    titles were stored)."""
    return source.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Extracted:
    """What a format's loader hands back: the text, its sections, and the title the file itself gives
    (metadata, first heading), if any; ``load_document`` falls back to the first heading, line or name."""

    text: str
    sections: list[Section]
    title: str | None = None
    left_out: tuple[str, ...] = ()  # pages of the file not in ``text``, each with why ("page 2: no text found by OCR")


class TextBuilder:
    """A document's text put together block by block (paragraphs, table rows, slides, OCR lines), with a
    section starting where a heading, page or slide does. Blocks are separated by a blank line."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.sections: list[Section] = []
        self._pending: Section | None = None
        self.left_out: list[str] = []  # pages the text does not hold, with why (``Extracted.left_out``)

    def section(self, *, heading: str | None = None, page: int | None = None, ocr: bool = False,
                confidence: float | None = None) -> None:
        """The next block starts a new section (``ocr``, ``confidence``: a page read by OCR, and how sure
        the engine was of it)."""
        self._pending = Section(0, page=page, heading=clean_title(heading, 200) if heading else None, ocr=ocr,
                                confidence=confidence)

    def add(self, block: str, sep: str = "\n\n") -> None:
        block = normalize_newlines(block).strip()
        if not block:
            return
        if self.parts:
            self.parts.append(sep)
            self.pos += len(sep)
        if self._pending is not None:
            if self.sections and self.sections[-1].start == self.pos:
                self.sections.pop()
            self.sections.append(dataclasses.replace(self._pending, start=self.pos))
            self._pending = None
        self.parts.append(block)
        self.pos += len(block)

    def text(self) -> str:
        return "".join(self.parts)

    def extracted(self, title: str | None = None) -> Extracted:
        sections = self.sections if self.sections and self.sections[0].start == 0 else [Section(0), *self.sections]
        return Extracted(self.text(), sections, clean_title(title), tuple(self.left_out))


# --- one loader per format ---------------------------------------------------------------------------


def _load_txt(path: Path) -> Extracted:
    return Extracted(normalize_newlines(decode_text(path.read_bytes())), [Section(0)])


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def _load_md(path: Path) -> Extracted:
    from markdown_it import MarkdownIt

    text = normalize_newlines(decode_text(path.read_bytes()))
    tokens = MarkdownIt("commonmark").parse(text)
    lines = _line_starts(text)
    sections = [Section(0)]
    title = None  # the first '#' heading
    for tok, nxt in zip(tokens, tokens[1:]):
        if tok.type == "heading_open" and tok.map:
            # a setext heading may run over several lines: a section's heading is one line
            heading = " ".join(nxt.content.split()) if nxt.type == "inline" else ""
            if tok.tag == "h1" and title is None:
                title = clean_title(heading)
            start = lines[tok.map[0]]
            if sections[-1].start == start:
                sections.pop()
            sections.append(Section(start, heading=heading or None))
    return Extracted(text, sections, title)


_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _head_title(html: str) -> str | None:
    """The text of the first ``<title>`` element (found with ``str.find``: linear on any input)."""
    lower = html.lower()
    at = lower.find("<title")
    while at >= 0 and lower[at + 6: at + 7] not in (">", " ", "\t", "\n", "\f", "/"):
        at = lower.find("<title", at + 6)
    if at < 0:
        return None
    gt = lower.find(">", at)
    end = lower.find("</title", gt)
    if gt < 0 or end < 0:
        return None
    return html_lib.unescape(html[gt + 1: end])


# characters an XML tree cannot hold (lxml refuses the whole page): a browser shows nothing for them
_UNPARSABLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# libxml2 stops reading at </html>, where browsers go on: a stray one (pages pasted together, a footer or
# script after the end) cost all the text after it. Without it the page ends where the file does.
_END_HTML = re.compile(r"</html\b[^<>]*>", re.IGNORECASE)


class _TooDeep(Exception):
    """libxml2 stopped at its nesting limit: the text after that point is missing from the tree."""


def _html_tree(html: str):
    """The lxml tree inscriptis would build (its ``_get_html_tree``), with libxml2's depth limit reported
    (``_TooDeep``) instead of silently cutting the page short."""
    from lxml.etree import ParserError
    from lxml.html import HTMLParser, document_fromstring

    html = html.strip()
    if not html:
        return None
    if html.startswith("<?xml "):
        html = re.sub(r"^<\?xml [^>]+?\?>", "", html, count=1)
    parser = HTMLParser()
    try:
        tree = document_fromstring(html, parser=parser)
    except ParserError:
        parser = HTMLParser()
        tree = document_fromstring("<pre>" + html + "</pre>", parser=parser)
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        raise _TooDeep
    return tree


def _inscriptis(html: str) -> tuple[str, list[Section], dict[str, str]] | None:
    """inscriptis's text, a section per heading and the first text of each heading level; None when
    libxml2 finds the page too deep or either fails on it."""
    from inscriptis.html_engine import Inscriptis
    from inscriptis.model.config import ParserConfig

    rules = {t: ["heading", t] for t in _HEADING_TAGS}
    config = ParserConfig(display_links=False, annotation_rules=rules)
    try:
        tree = _html_tree(html)
        if tree is None:
            return "", [Section(0)], {}
        engine = Inscriptis(tree, config)
        text = engine.get_text()
        labels = [(a.start, a.end, a.metadata) for a in engine.get_annotations()]
    except Exception:  # noqa: BLE001 - _TooDeep, lxml and inscriptis errors on hostile markup; the caller goes on
        return None
    sections = [Section(0)]
    first: dict[str, str] = {}
    for start, end, label in sorted(labels):
        heading = " ".join(text[start:end].split())
        if not heading:
            continue
        if label != "heading":
            first.setdefault(label, heading)
            continue
        if sections[-1].start == start:
            sections.pop()
        sections.append(Section(start, heading=heading))
    return text, sections, first


def html_to_text(html: str) -> Extracted:
    """HTML to text with a section per heading (scripts and styles dropped); the title is the first
    ``<h1>``, else ``<title>``, else the first ``<h2>``. Also serves EPUB chapters.

    No text is lost to the parser: a page nested deeper than libxml2 goes (it reports its limit) is
    flattened (``html_depth``), more and more until it fits; when inscriptis still returns less than half
    the text the markup holds, or fails, the markup is stripped instead (``html_depth.plain_text``: the
    text without its headings)."""
    from qa.ingest import html_depth

    html = _END_HTML.sub("", _UNPARSABLE.sub("", html))
    best = _inscriptis(html)
    for depth in html_depth.DEPTHS if best is None else ():
        best = _inscriptis(html_depth.flatten(html, depth))
        if best is not None:
            break
    held = html_depth.letters(html_depth.plain_text(html))
    if best is None or html_depth.letters(best[0]) * 2 < held:
        best = (html_depth.plain_text(html), [Section(0)], best[2] if best is not None else {})
    text, sections, first = best
    title = clean_title(first.get("h1")) or clean_title(_head_title(html)) or clean_title(first.get("h2"))
    # '&#13;' comes out as a carriage return: a line break like the others (same length: offsets hold)
    return Extracted(text.replace("\r", "\n"), sections, title)


def _load_html(path: Path) -> Extracted:
    return html_to_text(normalize_newlines(decode_text(path.read_bytes())))


def _quiet_pypdf() -> None:
    """pypdf logs warnings about damaged files ("EOF marker not found") that name no file; the loader
    reports what matters as the file's skip reason instead."""
    import logging

    logger = logging.getLogger("pypdf")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _pdf_title(reader) -> str | None:
    try:
        meta = reader.metadata
        return clean_title(meta.title) if meta is not None else None
    except Exception:  # noqa: BLE001 - a damaged info dictionary only costs the title
        return None


CRYPTO_HINT = "install the `crypto` extra (pip install 'qa-docs[crypto]') or remove the password"


def _unlock_pdf(reader) -> None:
    """Open an encrypted PDF that needs no password to read (only to edit); refuse the others with the
    real cause and its fix."""
    from pypdf.errors import DependencyError

    try:
        ok = reader.decrypt("")
    except DependencyError as exc:  # AES needs the cryptography package, which pypdf leaves optional
        raise DocumentError(f"encrypted PDF (AES): {CRYPTO_HINT}") from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises several types for unsupported or broken crypto
        raise DocumentError(f"encrypted PDF that cannot be opened ({one_line(exc)}): remove the password") from exc
    if not ok:
        raise DocumentError("encrypted PDF (password required): remove the password to index it")


def _page_text(reader, index: int) -> str:
    """A page's text layer; a page pypdf cannot read (a damaged content stream) counts as one without, so
    OCR gets a go at it and the document keeps its other pages."""
    from pypdf.errors import DependencyError

    try:
        return normalize_newlines(reader.pages[index].extract_text() or "").strip()
    except DependencyError:  # an AES-encrypted stream, and no cryptography package: the whole file's reason
        raise
    except Exception:  # noqa: BLE001 - pypdf raises many types on damaged pages; OCR reads the rendering
        return ""


def _open_pdf(data: bytes, reader_class):
    """A reader over ``data``. A file cut off just before its ``%%EOF`` line (every PDF viewer opens it)
    makes pypdf fail while looking for the marker: such a file is read again with the marker added."""
    import io

    try:
        return reader_class(io.BytesIO(data))
    except Exception:
        if b"%%EOF" in data[-1024:]:
            raise
        return reader_class(io.BytesIO(data + b"\n%%EOF\n"))


def _load_pdf(path: Path) -> Extracted:
    """Each page's text layer; pages without one (scans) are read by OCR (``qa.ingest.ocr``, imported
    only then) and marked as such."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    _quiet_pypdf()
    data = path.read_bytes()  # an OSError here is the file's; from here on, any is the PDF's
    try:
        reader = _open_pdf(data, PdfReader)
        if reader.is_encrypted:
            _unlock_pdf(reader)
        pages = [_page_text(reader, index) for index in range(len(reader.pages))]
        title = _pdf_title(reader)
    except DocumentError:
        raise
    except DependencyError as exc:  # AES (in the file's key or its streams) needs the cryptography package
        raise DocumentError(f"encrypted PDF (AES): {CRYPTO_HINT}") from exc
    except MemoryError as exc:
        raise DocumentError("PDF too large to read") from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises PdfReadError, ValueError, KeyError, RecursionError...
        raise DocumentError(f"unreadable PDF ({one_line(exc)})") from exc
    scanned = [number for number, text in enumerate(pages, start=1) if not text]
    ocr, unread_reason = {}, "cannot be rendered for OCR"
    if scanned:
        from qa.ingest import ocr as ocr_module

        try:
            ocr = ocr_module.ocr_pdf_pages(path, scanned)
        except DocumentError as exc:
            if not any(pages):
                raise
            unread_reason = f"OCR failed ({exc})"
    builder, empty, unread = TextBuilder(), [], []
    for number, page_text in enumerate(pages, start=1):
        if page_text:
            builder.section(page=number)
            builder.add(page_text)
        elif number in ocr:
            ocr_module.add_ocr_page(builder, number, ocr[number], empty)
        else:
            unread.append(number)
    if scanned:
        ocr_module.report_empty(path, empty, builder)
        ocr_module.report_empty(path, unread, builder, unread_reason)
    extracted = builder.extracted(title)
    if not extracted.text.strip():
        raise DocumentError("PDF has no extractable text, even after OCR (blank pages?)")
    return extracted


def _elsewhere(module: str, name: str):
    """A loader that lives in its own module, imported on first use: python-docx, OCR models and the like
    cost nothing to folders that hold none of their files."""

    def load(path: Path) -> Extracted:
        return getattr(importlib.import_module(module), name)(path)

    return load


_LOADERS = {
    ".txt": ("txt", _load_txt),
    ".md": ("md", _load_md),
    ".markdown": ("md", _load_md),
    ".html": ("html", _load_html),
    ".htm": ("html", _load_html),
    ".pdf": ("pdf", _load_pdf),
    ".docx": ("docx", _elsewhere("qa.ingest.office", "load_docx")),
    ".pptx": ("pptx", _elsewhere("qa.ingest.office", "load_pptx")),
    ".odt": ("odt", _elsewhere("qa.ingest.office", "load_odt")),
    ".epub": ("epub", _elsewhere("qa.ingest.epub", "load_epub")),
    ".rtf": ("rtf", _elsewhere("qa.ingest.rtf", "load_rtf")),
    **{suffix: ("image", _elsewhere("qa.ingest.ocr", "load_image")) for suffix in (".png", ".jpg", ".jpeg", ".tif", ".tiff")},
}
assert set(_LOADERS) == set(SUPPORTED_SUFFIXES)


def load_document(path: Path, source: str | None = None) -> Document:
    """Read one file. Raises DocumentError with a one-line reason when it cannot be used."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _LOADERS:
        raise DocumentError(f"unsupported file type '{suffix or path.name}'")
    kind, loader = _LOADERS[suffix]
    try:
        extracted = loader(path)
    except OSError as exc:
        raise DocumentError(f"cannot read file ({exc.strerror or exc})") from exc
    text, sections = extracted.text, extracted.sections
    if not text.strip():
        raise DocumentError("no text")
    source = source or path.name
    title = (extracted.title or next((t for s in sections if (t := clean_title(s.heading))), None)
             or first_line(text) or fallback_title(source))
    return Document(source, kind, text, sections, title, list(extracted.left_out))


# --- finding files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


def _megabytes(n: float) -> str:
    """A size for people: '49.7 MB', '20 MB', '2 KB'."""
    if n >= 1048576:
        return f"{n / 1048576:.1f}".removesuffix(".0") + " MB"
    return f"{max(n / 1024, 1):.0f} KB" if n >= 1024 else f"{n:.0f} bytes"


def scan_folder(folder: Path, max_bytes: int | None) -> tuple[dict[str, Path], list[Skipped]]:
    """Supported files under ``folder`` (recursive), keyed by their relative path, and what was skipped.

    Hidden files and folders are ignored. Symbolic links are followed only when they stay inside the
    folder, and each real folder is visited once, so link loops end. Files larger than ``max_bytes``
    (None for no limit; ``Settings.max_file_bytes``) are skipped: embedding tens of megabytes of text
    takes most of an hour on a laptop. A folder that cannot be read, however deep or long its path, is
    skipped with its reason; it never stops the scan.
    """
    scan = _FolderScan(Path(folder).resolve(), max_bytes)
    # depth first, in name order, with an explicit stack: no recursion limit on deep trees
    stack = [scan.root]
    while stack:
        stack.extend(reversed(scan.visit(stack.pop())))
    return scan.found, scan.skipped


class _FolderScan:
    def __init__(self, root: Path, max_bytes: int | None) -> None:
        self.root, self.max_bytes = root, max_bytes
        self.found: dict[str, Path] = {}
        self.skipped: list[Skipped] = []
        self.seen_dirs: set[tuple[int, int]] = set()

    def rel(self, p: Path) -> str:
        return p.relative_to(self.root).as_posix()

    def visit(self, directory: Path) -> list[Path]:
        """Record the files of one folder; return its sub-folders, in name order."""
        try:
            st = directory.stat()
        except OSError as exc:
            self.skipped.append(Skipped(self.rel(directory) + "/", f"cannot open folder ({exc.strerror or exc})"))
            return []
        key = (st.st_dev, st.st_ino)
        if key in self.seen_dirs:
            self.skipped.append(Skipped(self.rel(directory) + "/", "folder already visited (symlink loop)"))
            return []
        self.seen_dirs.add(key)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.skipped.append(Skipped(self.rel(directory) + "/", f"cannot list folder ({exc.strerror or exc})"))
            return []
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                reason = self.entry(entry, path, subdirs)
            except OSError as exc:
                reason = f"cannot read ({exc.strerror or exc})"
            if reason:
                self.skipped.append(Skipped(self.rel(path), reason))
        return subdirs

    def entry(self, entry: os.DirEntry, path: Path, subdirs: list[Path]) -> str | None:
        """File one folder entry (a document, a sub-folder to visit); returns why it is skipped, if it is."""
        if entry.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                return "broken or looping symbolic link"
            if not target.is_relative_to(self.root):
                return "symbolic link points outside the folder"
        if entry.is_dir():
            subdirs.append(path)
        elif not entry.is_file():
            return "not a regular file"
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            return f"unsupported file type '{path.suffix or path.name}'"
        elif self.max_bytes is not None and (size := entry.stat().st_size) > self.max_bytes:
            return (f"file is {_megabytes(size)}, over the {_megabytes(self.max_bytes)} "
                    f"limit (set {ENV_MAX_FILE_MB} to change it)")
        else:
            self.found[self.rel(path)] = path
        return None
