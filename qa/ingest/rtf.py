"""Rich Text Format to text (striprtf). RTF keeps no structure the engine can use (headings are only
bigger fonts), so the document is one section and its title is its first line.

``\\uN`` escapes are 16-bit code units: characters past U+FFFF (emoji) come as surrogate pairs, which
are joined here (a lone one becomes U+FFFD, since the index stores UTF-8), and a number no character has
is read as U+FFFD instead of failing the whole document."""

from __future__ import annotations

import re
from pathlib import Path

from qa.errors import DocumentError
from qa.ingest.documents import Extracted, Section, normalize_newlines, one_line


_UNICODE_ESCAPE = re.compile(r"\\u(-?\d{1,10})")


def _valid_unicode(match: re.Match) -> str:
    value = int(match.group(1))
    return match.group(0) if -65536 < value <= 0x10FFFF else "\\u65533"


def _join_surrogates(text: str) -> str:
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def load_rtf(path: Path) -> Extracted:
    from striprtf.striprtf import rtf_to_text

    data = path.read_bytes()
    if not data.lstrip().startswith(b"{\\rtf"):
        raise DocumentError("not an RTF file (no '{\\rtf' header)")
    # RTF is 7-bit text; other characters are escapes that rtf_to_text decodes (Windows-1252 by default)
    try:
        text = rtf_to_text(_UNICODE_ESCAPE.sub(_valid_unicode, data.decode("latin-1")), errors="replace")
    except Exception as exc:  # noqa: BLE001 - ValueError, IndexError, RecursionError... on damaged markup
        raise DocumentError(f"unreadable RTF ({one_line(exc)})") from exc
    return Extracted(normalize_newlines(_join_surrogates(text)), [Section(0)])
