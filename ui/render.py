"""HTML for the chat replies, the document view and the documents table.

Everything that comes from outside (document text, file names, section headings, questions) goes
through ``esc``; only the tags written here are left unescaped. Gradio sanitizes chatbot HTML too,
but ``gr.HTML`` does not, so this module must be safe on its own.

Each fragment is a single line (document newlines become ``<br>``): the chatbot renders Markdown, and
an HTML block without blank lines is passed through as HTML, untouched by the Markdown parser.
"""

from __future__ import annotations

import time

from qa.answer.results import Answer, Citation, Passage

SNIPPET_CHARS = 240  # closest-passage preview in a "not found" reply
DOC_WINDOW = 12_000  # characters of a long document shown around the span in the document view
NOT_FOUND_PASSAGES = 3

# One pass over the text: HTML's special characters, and those that Markdown, KaTeX or the chatbot could
# read as markup, become character references; control characters become spaces; newlines ``<br>``.
_TABLE = {ord(ch): f"&#{ord(ch)};" for ch in "&<>\"'*_`$\\[]~|#{}"}
_TABLE.update({c: " " for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)})
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


def place(source: str, page: int | None, section: str | None) -> str:
    """'name · page 2 · § Heading', escaped."""
    parts = [f'<span class="qa-src">{esc_inline(source)}</span>']
    if page is not None:
        parts.append(f"page {int(page)}")
    if section:
        parts.append(f"§ {esc_inline(section)}")
    return " · ".join(parts)


def confidence_class(confidence: float) -> str:
    return "high" if confidence >= 0.75 else "medium" if confidence >= 0.5 else "low"


def passage_for(answer: Answer, c: Citation) -> Passage | None:
    """The retrieved passage (chunk) that holds citation ``c``."""
    for p in answer.passages:
        if p.source == c.source and p.start <= c.sentence_start and c.sentence_end <= p.end:
            return p
    for p in answer.passages:
        if p.source == c.source and p.start <= c.start and c.end <= p.end:
            return p
    return None


def sentence_html(c: Citation) -> str:
    """The citation's sentence with the span marked."""
    return mark(c.sentence, c.start - c.sentence_start, c.end - c.sentence_start)


def passage_html(p: Passage, c: Citation) -> str:
    """The chunk with the cited sentence shaded and the span marked inside it."""
    text = p.text
    s0, s1 = max(c.sentence_start - p.start, 0), min(c.sentence_end - p.start, len(text))
    a, b = c.start - p.start, c.end - p.start
    if not (0 <= s0 <= a <= b <= s1 <= len(text)):
        return mark(text, a, b)
    return (f'{esc(text[:s0])}<span class="qa-sent">{esc(text[s0:a])}<mark>{esc(text[a:b])}</mark>'
            f"{esc(text[b:s1])}</span>{esc(text[s1:])}")


def _citation_item(i: int, c: Citation, p: Passage | None) -> str:
    chunk = (f'<div class="qa-label">Passage (characters {p.start}–{p.end})</div>'
             f'<div class="qa-passage">{passage_html(p, c)}</div>') if p else ""
    return (
        f'<li class="qa-cite" data-cite="{i}"><details>'
        f'<summary><span class="qa-num">[{i}]</span> {place(c.source, c.page, c.section)}'
        f' <span class="qa-range">chars {c.start}–{c.end}</span></summary>'
        f'<div class="qa-label">Sentence</div><blockquote class="qa-quote">{sentence_html(c)}</blockquote>'
        f"{chunk}</details></li>"
    )


def render_answer(answer: Answer) -> str:
    """The chat reply: a found answer with its citations, or 'not found' with the closest passages."""
    notice = f'<div class="qa-notice">Note: {esc_inline(answer.notice)}</div>' if answer.notice else ""
    if not answer.found:
        return render_not_found(answer, notice)
    level = confidence_class(answer.confidence)
    first = answer.citations[0]
    items = "".join(_citation_item(i, c, passage_for(answer, c)) for i, c in enumerate(answer.citations, 1))
    refs = "".join(f'<span class="qa-num">[{i}]</span>' for i in range(1, len(answer.citations) + 1))
    return (
        f'<div class="qa-reply qa-found">{notice}'
        f'<div class="qa-answer-line"><span class="qa-answer">{esc_inline(answer.answer)}</span>'
        f' <span class="qa-conf qa-conf-{level}" title="how sure the reader is">'
        f"confidence {answer.confidence:.2f}</span></div>"
        f'<blockquote class="qa-quote qa-main-quote">{sentence_html(first)} <span class="qa-refs">{refs}</span></blockquote>'
        f'<div class="qa-label">Sources — click to expand</div>'
        f'<ol class="qa-cites">{items}</ol></div>'
    )


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:SNIPPET_CHARS] + ("…" if len(flat) > SNIPPET_CHARS else "")


def render_not_found(answer: Answer, notice: str = "") -> str:
    passages = answer.passages[:NOT_FOUND_PASSAGES]
    items = "".join(
        f'<li class="qa-cite" data-cite="{i}"><details>'
        f'<summary><span class="qa-num">[{i}]</span> {place(p.source, p.page, p.section)}'
        f' <span class="qa-range">chars {p.start}–{p.end}</span>'
        f'<div class="qa-snippet">{esc(_snippet(p.text))}</div></summary>'
        f'<div class="qa-passage">{esc(p.text)}</div></details></li>'
        for i, p in enumerate(passages, 1)
    )
    closest = (f'<div class="qa-label">Closest passages — judge for yourself</div><ol class="qa-cites">{items}</ol>'
               if passages else '<div class="qa-label">The index holds no passages.</div>')
    return (
        f'<div class="qa-reply qa-notfound">{notice}'
        f'<div class="qa-nf-title">Not found in the documents</div>'
        f'<div class="qa-nf-why">No passage answers this with enough confidence '
        f"(best {answer.confidence:.2f}).</div>{closest}</div>"
    )


def render_question(question: str) -> str:
    return f'<div class="qa-question">{esc_inline(question)}</div>'


def render_error(message: str) -> str:
    return f'<div class="qa-reply qa-error">{esc_inline(message)}</div>'


# --- document view -----------------------------------------------------------------------------------


def citation_choices(answer: dict) -> list[tuple[str, str]]:
    """Dropdown entries (label, value) for the places an answer points to (citations or passages)."""
    if answer.get("citations"):
        items = answer["citations"]
    else:
        items = answer.get("passages", [])[:NOT_FOUND_PASSAGES]
    out = []
    for i, c in enumerate(items, 1):
        where = [c["source"]]
        if c.get("page") is not None:
            where.append(f"page {c['page']}")
        if c.get("section"):
            where.append(f"§ {' '.join(c['section'].split())[:60]}")
        out.append((f"[{i}] " + " · ".join(where) + f" · chars {c['start']}–{c['end']}", str(i - 1)))
    return out


def render_document(source: str, text: str | None, start: int, end: int, *, hint: str = "",
                    sentence: tuple[int, int] | None = None, passage: bool = False) -> str:
    """The whole document (or a window of a long one) with ``text[start:end]`` in place.

    A cited span is marked (``<mark>``) inside its shaded sentence; a ``passage`` (a closest passage of
    a "not found" reply) is only shaded.
    """
    if text is None:
        return f'<div class="qa-doc qa-doc-empty">{esc_inline(source)} is no longer in the index.</div>'
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
    head = (f'<div class="qa-doc-head"><span class="qa-src">{esc_inline(source)}</span>'
            f'<span class="qa-range">{esc_inline(hint)}</span></div>')
    return f'<div class="qa-doc">{head}{window}<div class="qa-doc-body">{inner}</div></div>'


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


def render_documents(records, corpus: str) -> str:
    """The indexed documents: name, type, chunks, size, when indexed."""
    if not records:
        return '<div class="qa-docs qa-doc-empty">No documents indexed yet. Upload some below.</div>'
    rows = "".join(
        f"<tr><td class=\"qa-src\">{esc_inline(d.source)}</td><td>{esc_inline(d.kind)}</td>"
        f"<td class=\"qa-numcol\">{int(d.chunks)}</td><td class=\"qa-numcol\">{human_size(d.size)}</td>"
        f"<td>{time.strftime('%Y-%m-%d %H:%M', time.localtime(d.indexed_at))}</td></tr>"
        for d in records
    )
    chunks = sum(d.chunks for d in records)
    return (
        f'<div class="qa-docs"><div class="qa-docs-head">{len(records)} document{"s" if len(records) != 1 else ""}, '
        f"{chunks} chunks · folder <code>{esc_inline(corpus)}</code></div>"
        f'<table class="qa-table"><thead><tr><th>Document</th><th>Type</th><th>Chunks</th><th>Size</th>'
        f"<th>Indexed</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def render_status(kind: str, lines: list[str]) -> str:
    """A status box after an upload / removal / rebuild; ``kind`` is ok, warn or error."""
    body = "".join(f"<li>{esc_inline(line)}</li>" for line in lines)
    return f'<div class="qa-status qa-status-{kind}"><ul>{body}</ul></div>'
