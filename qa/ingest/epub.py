"""EPUB books to text (ebooklib): the chapters of the reading order (spine), each through the HTML path
(``documents.html_to_text``), one after the other. A chapter starts a section named by its first heading
(or its ``<title>``); the headings inside it start sections too. The title is the book's Dublin Core
title. Checked as a zip package first (``office.check_package``); a DRM-encrypted book is refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

from qa.errors import DocumentError
from qa.ingest.documents import (
    Extracted,
    Section,
    TextBuilder,
    clean_title,
    decode_text,
    html_to_text,
    normalize_newlines,
)
from qa.ingest.office import _guarded


def _encrypted(path: Path) -> bool:
    """Whether the book's content is encrypted (DRM); fonts alone may be obfuscated harmlessly."""
    with zipfile.ZipFile(path) as package:
        try:
            encryption = package.read("META-INF/encryption.xml")
        except KeyError:
            return False
    return b"EncryptedData" in encryption and b".htm" in encryption


def _epub(path: Path) -> Extracted:
    import warnings

    import ebooklib
    from ebooklib import epub

    if _encrypted(path):
        raise DocumentError("encrypted (DRM-protected) EPUB book, which cannot be read")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ebooklib warns about future defaults on every call
        book = epub.read_epub(str(path), options={"ignore_ncx": True})
    builder = TextBuilder()
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        html = normalize_newlines(_chapter_text(item))
        chapter = html_to_text(html)
        _add_chapter(builder, chapter)
    titles = book.get_metadata("DC", "title")
    return builder.extracted(clean_title(titles[0][0]) if titles else None)


def _chapter_text(item) -> str:
    """The chapter's file as it is in the book. Not ``get_content()``: ebooklib rebuilds a chapter from
    what lxml puts inside its ``<body>``, which drops the text after a stray ``</body>`` and past 256
    levels of nesting before the HTML path (which keeps both) ever sees it."""
    raw = item.content if item.content is not None else item.get_content()
    try:
        return decode_text(raw)
    except DocumentError:
        return raw.decode("utf-8", errors="replace")


def _add_chapter(builder: TextBuilder, chapter: Extracted) -> None:
    """A chapter's text with its own sections, shifted to where it lands in the book."""
    text = chapter.text.strip()
    if not text:
        return
    lead = len(chapter.text) - len(chapter.text.lstrip())
    builder.section(heading=chapter.title)
    before = builder.pos + (2 if builder.parts else 0)
    builder.add(text)
    for s in chapter.sections:
        start = before + s.start - lead
        if s.heading and before < start < builder.pos:
            builder.sections.append(Section(start, s.page, s.heading))


def load_epub(path: Path) -> Extracted:
    return _guarded("epub", _epub, path)
