"""Rich Text Format to text (striprtf). RTF keeps no structure the engine can use (headings are only
bigger fonts), so the document is one section and its title is its first line."""

from __future__ import annotations

from pathlib import Path

from qa.errors import DocumentError
from qa.ingest.documents import Extracted, Section, normalize_newlines


def load_rtf(path: Path) -> Extracted:
    from striprtf.striprtf import rtf_to_text

    data = path.read_bytes()
    if not data.lstrip().startswith(b"{\\rtf"):
        raise DocumentError("not an RTF file (no '{\\rtf' header)")
    # RTF is 7-bit text; other characters are escapes that rtf_to_text decodes (Windows-1252 by default)
    try:
        text = rtf_to_text(data.decode("latin-1"), errors="replace")
    except (ValueError, IndexError, RecursionError) as exc:
        raise DocumentError(f"unreadable RTF ({exc.__class__.__name__})") from exc
    return Extracted(normalize_newlines(text), [Section(0)])
