"""HTML helpers (escaping, where a citation stands) and the document view and documents table.

The chat's replies are in ``replies``. Everything that comes from outside (document text, file names, section headings, questions) goes
through ``esc``; only the tags written here are left unescaped. Gradio sanitizes chatbot HTML too,
but ``gr.HTML`` does not, so this module must be safe on its own.

Each fragment is a single line (document newlines become ``<br>``): the chatbot renders Markdown, and
an HTML block without blank lines is passed through as HTML, untouched by the Markdown parser.
"""

from __future__ import annotations

import time

from qa.answer.results import ocr_note

DOC_WINDOW = 12_000  # characters of a long document shown around the span in the document view

# One pass over the text: HTML's special characters, and those that Markdown, KaTeX or the chatbot could
# read as markup, become character references; control characters become spaces; newlines ``<br>``.
_TABLE = {ord(ch): f"&#{ord(ch)};" for ch in "&<>\"'*_`$\\[]~|#{}"}
_TABLE.update({c: " " for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)})
_TABLE.update({0x0A: "<br>", 0x0D: None, 0x2028: "<br>", 0x2029: "<br>"})


def esc(text: str | None) -> str:
    """Text as inert HTML: escaped, Markdown/LaTeX characters as references, newlines as ``<br>``."""
    if not text:
        return ""
    text = str(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_TABLE)


def esc_inline(text: str | None) -> str:
    """Like ``esc`` but on one line (names, headings, the question)."""
    return esc(" ".join(str(text or "").split()))


def mark(text: str, start: int, end: int, cls: str = "") -> str:
    """``text`` escaped, with ``text[start:end]`` inside ``<mark>`` (offsets relative to ``text``)."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    attr = f' class="{cls}"' if cls else ""
    return f"{esc(text[:start])}<mark{attr}>{esc(text[start:end])}</mark>{esc(text[end:])}"


def _get(item, key: str, default=None):
    return item.get(key, default) if isinstance(item, dict) else getattr(item, key, default)


def title_of(item) -> str:
    """A document's title for people: its indexed title, else its file name (object or JSON dict)."""
    source = str(_get(item, "source", "") or "")
    return " ".join(str(_get(item, "title") or source.rsplit("/", 1)[-1]).split())


def place_label(item) -> str:
    """'Title — p. 3 / § Heading' (plain text; escape it): where a citation or passage stands; a page read
    by OCR says so, with the engine's confidence when known ('p. 3 (OCR, 91%)'): its text may hold
    misread words."""
    where = []
    if _get(item, "page") is not None:
        where.append(f"p. {int(_get(item, 'page'))}" + (" " + ocr_note(_get(item, "ocr_confidence"))
                                                         if _get(item, "ocr") else ""))
    section = " ".join(str(_get(item, "section") or "").split())
    if section:
        where.append(f"§ {section[:80]}")
    return title_of(item) + (" — " + " / ".join(where) if where else "")


def place_tip(item) -> str:
    """'file.txt · characters 1535–1546' (plain text): the exact place, for a tooltip."""
    return f"{_get(item, 'source', '')} · characters {_get(item, 'start', 0)}–{_get(item, 'end', 0)}"


# --- document view -----------------------------------------------------------------------------------


def places_of(answer: dict) -> list[tuple[str, dict]]:
    """The places an answer (JSON form) points to, as (key, item): its citations ``c0``, ``c1``…, its
    other candidates ``a0``, ``a1`` (a tentative answer), or the closest passages ``p0``… ("not found")."""
    if answer.get("citations"):
        out = [(f"c{i}", c) for i, c in enumerate(answer["citations"])]
        return out + [(f"a{i}", c) for i, c in enumerate(answer.get("alternatives") or [])]
    return [(f"p{i}", p) for i, p in enumerate(answer.get("passages", [])[:3])]


def citation_choices(answer: dict) -> list[tuple[str, str]]:
    """"Showing" picker entries (label, key) for the places an answer points to."""
    out = []
    for key, item in places_of(answer):
        n = int(key[1:]) + 1
        label = f"[{n}] " if key[0] != "a" else f"Other answer {n}: {' '.join(item['text'].split())[:40]} — "
        out.append((label + place_label(item), key))
    return out


def render_document(source: str, text: str | None, start: int, end: int, *, hint: str = "",
                    sentence: tuple[int, int] | None = None, passage: bool = False, label: str = "") -> str:
    """The whole document (or a window of a long one) with ``text[start:end]`` in place.

    A cited span is marked (``<mark>``) inside its shaded sentence; a ``passage`` (a closest passage of
    a "not found" reply) is only shaded.
    """
    if text is None:
        return (f'<div class="qa-doc qa-doc-empty qa-doc-gone">{esc_inline(label or source)} ({esc_inline(source)}) '
                "is no longer in the documents.</div>")
    n = len(text)
    start, end = max(0, min(start, n)), max(0, min(end, n))
    lo, hi = 0, n
    if n > DOC_WINDOW:
        lo = max(0, start - DOC_WINDOW // 3)
        hi = min(n, lo + DOC_WINDOW)
        lo = max(0, hi - DOC_WINDOW)
    body = text[lo:hi]
    a, b = start - lo, min(end, hi) - lo
    if passage:
        inner = f'{esc(body[:a])}<span class="qa-sent" id="qa-hit">{esc(body[a:b])}</span>{esc(body[b:])}'
    elif sentence and lo <= sentence[0] <= start and end <= sentence[1] <= hi:
        s0, s1 = sentence[0] - lo, sentence[1] - lo
        inner = (f'{esc(body[:s0])}<span class="qa-sent">{esc(body[s0:a])}<mark id="qa-hit">{esc(body[a:b])}</mark>'
                 f"{esc(body[b:s1])}</span>{esc(body[s1:])}")
    else:
        inner = f'{esc(body[:a])}<mark id="qa-hit">{esc(body[a:b])}</mark>{esc(body[b:])}'
    window = f'<div class="qa-doc-note">Showing characters {lo}–{hi} of {n}.</div>' if (lo, hi) != (0, n) else ""
    head = (f'<div class="qa-doc-head"><span class="qa-doc-title">{esc_inline(label or source)}</span>'
            f'<span class="qa-range">{esc_inline(hint)}</span></div>')
    return f'<div class="qa-doc">{head}{window}<div class="qa-doc-body" tabindex="0" role="region" aria-label="Document text">{inner}</div></div>'


def render_document_placeholder() -> str:
    return ('<div class="qa-doc qa-doc-empty">Ask a question: the document the answer comes from appears '
            "here, with the answer highlighted in place. Click an earlier reply to see its sources again.</div>")


# --- documents table ---------------------------------------------------------------------------------


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _title_cell(d) -> str:
    """The document's title above its file name, when it has one of its own."""
    title = title_of(d)
    return "" if title == d.source.rsplit("/", 1)[-1] else f'<span class="qa-doc-name">{esc_inline(title)}</span>'


def render_documents(records, corpus: str) -> str:
    """The indexed documents: name, type, chunks, size, when indexed."""
    if not records:
        return '<div class="qa-docs qa-doc-empty">No documents indexed yet. Upload some below.</div>'
    rows = "".join(
        f"<tr><td>{_title_cell(d)}<span class=\"qa-src\">{esc_inline(d.source)}</span></td><td>{esc_inline(d.kind)}</td>"
        f"<td class=\"qa-numcol\">{int(d.chunks)}</td><td class=\"qa-numcol\">{human_size(d.size)}</td>"
        f"<td>{time.strftime('%Y-%m-%d %H:%M', time.localtime(d.indexed_at))}</td></tr>"
        for d in records
    )
    chunks = sum(d.chunks for d in records)
    return (
        f'<div class="qa-docs"><div class="qa-docs-head">{len(records)} document{"s" if len(records) != 1 else ""}, '
        f"{chunks} chunks · folder <code>{esc_inline(corpus)}</code></div>"
        f'<table class="qa-table"><thead><tr><th scope="col">Document</th><th scope="col">Type</th>'
        f'<th scope="col" class="qa-numcol">Chunks</th><th scope="col" class="qa-numcol">Size</th>'
        f'<th scope="col">Indexed</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


def render_status(kind: str, lines: list[str]) -> str:
    """A status box after an upload / removal / rebuild; ``kind`` is ok, warn or error."""
    body = "".join(f"<li>{esc_inline(line)}</li>" for line in lines)
    return f'<div class="qa-status qa-status-{kind}"><ul>{body}</ul></div>'
