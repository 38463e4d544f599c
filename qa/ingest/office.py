"""Office documents to text: Word (.docx, python-docx), PowerPoint (.pptx, python-pptx) and OpenDocument
text (.odt, odfpy).

What each keeps: Word headings (and the Title style) start sections, paragraphs are separated by a blank
line, a table becomes one line per row with its cells joined by " | "; each slide is a section
("slide 3: its title") holding its text boxes, tables and speaker notes; OpenDocument headings start
sections, as in Word. The title is the file's own (core properties, Dublin Core), else the first heading.

These formats are zip packages, so each is checked before a parser opens it (``check_package``): a
password-protected Office file (an OLE container, not a zip), a damaged zip or one that would unpack to
more than ``MAX_UNPACKED_BYTES`` (a zip bomb) is refused with a one-line reason, without unpacking it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from qa.errors import DocumentError
from qa.ingest.documents import Extracted, TextBuilder, clean_title, one_line

MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # what a package may unpack to, all members together
MAX_RATIO = 200  # a member compressed more than this (and over 1 MB unpacked) is a bomb, not a document
MAX_MEMBERS = 20_000
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and old binary .doc/.ppt files start so

_NAMES = {"docx": "Word document", "pptx": "PowerPoint file", "odt": "OpenDocument text", "epub": "EPUB book"}


def check_package(path: Path, kind: str) -> None:
    """Refuse a package that is not a sound zip of a reasonable unpacked size, before parsing it. The
    sizes checked are those the zip declares, which also bound what Python's zipfile will inflate."""
    name = _NAMES[kind]
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise DocumentError(f"empty file (0 bytes), not a {name}")
    if head == _OLE:
        raise DocumentError(f"password-protected or old binary (pre-2007) {name}, which cannot be read")
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
    except Exception as exc:  # noqa: BLE001 - BadZipFile, ValueError, EOFError, OSError (a seek before the start)...
        raise DocumentError(f"damaged {name} (not a valid zip package: {one_line(exc)})") from exc
    if len(members) > MAX_MEMBERS:
        raise DocumentError(f"{name} holds {len(members):,} parts, over the {MAX_MEMBERS:,} limit")
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES:
        raise DocumentError(f"{name} would unpack to {total / 1048576:,.0f} MB, over the "
                            f"{MAX_UNPACKED_BYTES // 1048576} MB limit (zip bomb?)")
    for m in members:
        if m.file_size > 1048576 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise DocumentError(f"{name} part '{m.filename[:60]}' is compressed {m.file_size // max(m.compress_size, 1):,}"
                                f" to 1 (zip bomb?)")


def _guarded(kind: str, parse, path: Path) -> Extracted:
    """Run a third-party parser on a checked package; whatever it raises on a damaged file becomes the
    file's one-line skip reason."""
    check_package(path, kind)
    try:
        return parse(path)
    except DocumentError:
        raise
    except MemoryError as exc:
        raise DocumentError(f"{_NAMES[kind]} too large to read") from exc
    except Exception as exc:  # noqa: BLE001 - parsers raise KeyError, lxml errors, ValueError... on damage
        raise DocumentError(f"unreadable {_NAMES[kind]} ({one_line(exc)})") from exc


# --- Word ----------------------------------------------------------------------------------------------


def _is_heading(paragraph) -> bool:
    try:
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, ValueError):
        return False
    return style == "Title" or style.startswith("Heading")


def table_rows(rows) -> list[str]:
    """Cells joined by ' | ', one line per row; a merged cell (repeated by the parser) counted once."""
    lines = []
    for cells in rows:
        kept: list[str] = []
        for cell in cells:
            text = " ".join(cell.split())
            if not kept or text != kept[-1]:
                kept.append(text)
        if any(kept):
            lines.append(" | ".join(kept))
    return lines


def _docx(path: Path) -> Extracted:
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    builder = TextBuilder()
    first_heading = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = table_rows([cell.text for cell in row.cells] for row in block.rows)
            builder.add("\n".join(rows))
            continue
        text = block.text
        if _is_heading(block) and text.strip():
            builder.section(heading=text)
            first_heading = first_heading or text
        builder.add(text)
    return builder.extracted(clean_title(document.core_properties.title) or first_heading)


def load_docx(path: Path) -> Extracted:
    return _guarded("docx", _docx, path)


# --- PowerPoint ----------------------------------------------------------------------------------------


def _shape_texts(shapes) -> list[str]:
    out = []
    for shape in shapes:
        if shape.shape_type is not None and getattr(shape, "shapes", None) is not None:  # a group
            out.extend(_shape_texts(shape.shapes))
        elif getattr(shape, "has_table", False) and shape.has_table:
            out.append("\n".join(table_rows([c.text for c in row.cells] for row in shape.table.rows)))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            out.append(shape.text_frame.text)
    return out


def _pptx(path: Path) -> Extracted:
    from pptx import Presentation

    presentation = Presentation(str(path))
    builder = TextBuilder()
    first_title = None
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text.split()) if title_shape is not None and title_shape.has_text_frame else ""
        first_title = first_title or title
        builder.section(heading=f"slide {number}: {title}" if title else f"slide {number}")
        texts = _shape_texts(slide.shapes)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            texts.append(slide.notes_slide.notes_text_frame.text)
        for text in texts:
            builder.add(text)
    return builder.extracted(clean_title(presentation.core_properties.title) or first_title)


def load_pptx(path: Path) -> Extracted:
    return _guarded("pptx", _pptx, path)


# --- OpenDocument --------------------------------------------------------------------------------------


def _odt_blocks(node, builder: TextBuilder, headings: list[str]) -> None:
    from odf import teletype
    from odf.namespaces import TABLENS, TEXTNS

    for child in node.childNodes:
        if child.nodeType != child.ELEMENT_NODE:
            continue
        if child.qname == (TEXTNS, "h"):
            text = teletype.extractText(child)
            if text.strip():
                builder.section(heading=text)
                headings.append(text)
            builder.add(text)
        elif child.qname == (TEXTNS, "p"):
            builder.add(teletype.extractText(child))
        elif child.qname == (TABLENS, "table"):
            rows = [[teletype.extractText(cell) for cell in row.childNodes if cell.nodeType == cell.ELEMENT_NODE]
                    for row in _descendants(child, (TABLENS, "table-row"))]
            builder.add("\n".join(table_rows(rows)))
        else:  # lists, sections, frames: their paragraphs in order
            _odt_blocks(child, builder, headings)


def _descendants(node, qname):
    for child in node.childNodes:
        if child.nodeType == child.ELEMENT_NODE:
            if child.qname == qname:
                yield child
            else:
                yield from _descendants(child, qname)


def _odt_encrypted(path: Path) -> bool:
    with zipfile.ZipFile(path) as package:
        try:
            manifest = package.read("META-INF/manifest.xml")
        except KeyError:
            return False
    return b"encryption-data" in manifest


def _odt(path: Path) -> Extracted:
    from odf import teletype
    from odf.dc import Title
    from odf.opendocument import load

    if _odt_encrypted(path):
        raise DocumentError("password-protected OpenDocument text, which cannot be read")
    document = load(str(path))
    builder = TextBuilder()
    headings: list[str] = []
    _odt_blocks(document.text, builder, headings)
    titles = document.meta.getElementsByType(Title)
    title = clean_title(teletype.extractText(titles[0])) if titles else None
    return builder.extracted(title or (headings[0] if headings else None))


def load_odt(path: Path) -> Extracted:
    return _guarded("odt", _odt, path)
