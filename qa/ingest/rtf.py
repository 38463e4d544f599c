"""Rich Text Format to text (striprtf). RTF keeps no structure the engine can use (headings are only
bigger fonts), so the document is one section and its title is its first line.

``\\uN`` escapes are 16-bit code units: characters past U+FFFF (emoji) come as surrogate pairs, which
are joined here (a lone one becomes U+FFFD, since the index stores UTF-8), and a number no character has
is read as U+FFFD instead of failing the whole document. Fonts in a Mac character set Python has no
codec for (``\\fcharset78``, Mac Japanese...) are read in the nearest Windows code page."""

from __future__ import annotations

import re
from pathlib import Path

from qa.errors import DocumentError
from qa.ingest.documents import Extracted, Section, normalize_newlines, one_line

_UNICODE_ESCAPE = re.compile(r"\\u(-?\d{1,10})")


def _valid_unicode(match: re.Match) -> str:
    value = int(match.group(1))
    return match.group(0) if -65536 < value <= 0x10FFFF else "\\u65533"


# striprtf's Mac character sets Python has no codec for -> the Windows character set of the same script
_MAC_CHARSETS = {78: 128, 79: 136, 80: 129, 82: 177, 85: 134, 86: 238, 87: 204, 88: 222, 89: 238}
_FONT_CHARSET = re.compile(r"\\fcharset(\d{1,3})(?!\d)")


def _known_charset(match: re.Match) -> str:
    number = int(match.group(1))
    return f"\\fcharset{_MAC_CHARSETS[number]}" if number in _MAC_CHARSETS else match.group(0)


def _join_surrogates(text: str) -> str:
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def load_rtf(path: Path) -> Extracted:
    from striprtf.striprtf import rtf_to_text

    data = path.read_bytes()
    if not data.lstrip().startswith(b"{\\rtf"):
        raise DocumentError("not an RTF file (no '{\\rtf' header)")
    # RTF is 7-bit text; other characters are escapes that rtf_to_text decodes (Windows-1252 by default)
    try:
        rtf = _FONT_CHARSET.sub(_known_charset, _UNICODE_ESCAPE.sub(_valid_unicode, data.decode("latin-1")))
        text = rtf_to_text(rtf, errors="replace")
    except Exception as exc:  # noqa: BLE001 - ValueError, IndexError, RecursionError... on damaged markup
        raise DocumentError(f"unreadable RTF ({one_line(exc)})") from exc
    return Extracted(normalize_newlines(_join_surrogates(text)), [Section(0)])
