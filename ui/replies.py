"""HTML of the chat's replies: a sure answer, a tentative one, "not found", an error.

How sure a reply looks follows the reader's calibrated confidence (docs/BENCHMARKS.md, Trust):
below the engine's threshold the answer is "not found"; from there up to ``SURE_LEVEL`` it is a
*possible* answer, shown tentatively with the reader's next candidates; from ``SURE_LEVEL`` on it is
shown as an answer. At 0.8 about 9 in 10 answers given were right on SQuAD v1.1 and on product reviews
(8 in 10 at the default threshold 0.6).

Every place a reply points to (the answer, each ``[n]``, each other candidate, each closest passage) is
a link to ``#qa-jump-R-K``: R the reply's index in the chat, K ``c`` (citation), ``a`` (other candidate)
or ``p`` (closest passage) and its 0-based index; ``ui/client.py`` turns a click into the document
view scrolling to that span. Only tags written here are unescaped (see ``render.esc``).
"""

from __future__ import annotations

import re

from qa.answer.results import Answer, Citation, Passage

from .render import esc, esc_inline, mark, place_label, place_tip

SURE_LEVEL = 0.8
NOT_FOUND_PASSAGES = 3
TENTATIVE_TITLE = "Possible answer — check the quote"


def confidence_words(confidence: float) -> str:
    return "Confident" if confidence >= SURE_LEVEL else "Not sure"


def _jump(reply: int | None, kind: str, i: int) -> str:
    # the chat's sanitizer keeps href but drops data- and aria- attributes: the target travels in the href
    return f' href="#qa-jump-{int(reply or 0)}-{kind}{int(i)}"'


def _ref(reply: int | None, kind: str, i: int, item: Citation | Passage, quote: str) -> str:
    """``[n]``: a link to the span in the document view, previewing the quote on hover or focus."""
    label = f"Source {i + 1}: {' '.join(place_label(item).split())}"
    return (f'<a class="qa-ref qa-jump"{_jump(reply, kind, i)} title="{esc_inline(label)}">[{i + 1}]'
            f'<span class="qa-tip">{quote}</span></a>')


def _place(item: Citation | Passage) -> str:
    return f'<span class="qa-place" title="{esc_inline(place_tip(item))}">{esc_inline(place_label(item))}</span>'


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


def _citation_item(reply: int | None, i: int, c: Citation, p: Passage | None) -> str:
    chunk = (f'<div class="qa-label">Passage</div><div class="qa-passage">{passage_html(p, c)}</div>') if p else ""
    return (
        f'<li class="qa-cite" data-cite="{i + 1}">{_ref(reply, "c", i, c, sentence_html(c))}<details>'
        f"<summary>{_place(c)}</summary>"
        f'<div class="qa-label">Sentence</div><blockquote class="qa-quote">{sentence_html(c)}</blockquote>'
        f'{chunk}<div class="qa-file">{esc_inline(place_tip(c))}</div></details></li>'
    )


def copy_text(answer: Answer) -> str:
    """What "Copy with citation" puts on the clipboard: the answer, its sentence and where it stands."""
    c = answer.citations[0]
    sentence = " ".join(c.sentence.split())
    return f"{answer.answer} — “{sentence}” ({place_label(c)}; {place_tip(c)})"


def _actions(text: str) -> str:
    return (f'<div class="qa-actions"><button type="button" class="qa-copy">Copy with citation</button>'
            f'<span class="qa-copytext">{esc_inline(text)}</span></div>')


def _alternatives(reply: int | None, answer: Answer) -> str:
    if not answer.alternatives:
        return ""
    items = "".join(
        f'<li class="qa-alt"><a class="qa-alt-answer qa-jump"{_jump(reply, "a", j)}>{esc_inline(c.text)}</a>'
        f" — {_place(c)}<blockquote class=\"qa-quote\">{sentence_html(c)}</blockquote></li>"
        for j, c in enumerate(answer.alternatives[:2])
    )
    return f'<div class="qa-label">Other possible answers</div><ol class="qa-alts">{items}</ol>'


def render_answer(answer: Answer, reply: int | None = None) -> str:
    """The chat reply to ``answer``; ``reply`` is its index in the chat (for links to the document view)."""
    notice = f'<div class="qa-notice">Note: {esc_inline(answer.notice)}</div>' if answer.notice else ""
    if not answer.found:
        return render_not_found(answer, notice, reply)
    sure = answer.confidence >= SURE_LEVEL
    first = answer.citations[0]
    items = "".join(_citation_item(reply, i, c, passage_for(answer, c)) for i, c in enumerate(answer.citations))
    refs = "".join(_ref(reply, "c", i, c, sentence_html(c)) for i, c in enumerate(answer.citations))
    level = "high" if sure else "low"
    head = "" if sure else f'<div class="qa-tentative-title">{TENTATIVE_TITLE}</div>'
    return (
        f'<div class="qa-reply qa-found {"qa-sure" if sure else "qa-tentative"}">'
        f"{notice}{head}"
        f'<div class="qa-answer-line"><a class="qa-answer qa-jump"{_jump(reply, "c", 0)}>{esc_inline(answer.answer)}</a>'
        f' <span class="qa-conf qa-conf-{level}" title="the reader\'s confidence: {answer.confidence:.2f}">'
        f"{confidence_words(answer.confidence)}</span></div>"
        f'<blockquote class="qa-quote qa-main-quote">{sentence_html(first)} <span class="qa-refs">{refs}</span>'
        f"</blockquote>{'' if sure else _alternatives(reply, answer)}"
        f'<div class="qa-label">Sources</div><ol class="qa-cites">{items}</ol>{_actions(copy_text(answer))}</div>'
    )


def render_not_found(answer: Answer, notice: str = "", reply: int | None = None) -> str:
    passages = answer.passages[:NOT_FOUND_PASSAGES]
    items = "".join(
        f'<li class="qa-cite qa-closest" data-cite="{i + 1}">{_ref(reply, "p", i, p, esc(p.text[:300]))}'
        f'<div class="qa-closest-body">{_place(p)}<div class="qa-passage-full">{esc(p.text)}</div></div></li>'
        for i, p in enumerate(passages)
    )
    closest = (f'<div class="qa-label">Closest passages — judge for yourself</div><ol class="qa-cites">{items}</ol>'
               if passages else '<div class="qa-nf-why">The index holds no passages yet.</div>')
    return (
        f'<div class="qa-reply qa-notfound">{notice}'
        f'<div class="qa-nf-title">Not found in the documents</div>'
        f'<div class="qa-nf-why">No passage answers this clearly enough to quote.</div>{closest}</div>'
    )


def render_question(question: str) -> str:
    return f'<div class="qa-question">{esc_inline(question)}</div>'


def render_error(message: str) -> str:
    return f'<div class="qa-reply qa-error">{esc_inline(message)}</div>'


# --- replies whose documents were removed ---------------------------------------------------------------

_GONE = re.compile(r'<div class="qa-gone">.*?</div>')
_REPLY_OPEN = re.compile(r'^(<div class="qa-reply [^"]*"[^>]*>)')


def mark_gone(reply_html: str, gone: list[str]) -> str:
    """``reply_html`` with a note naming the removed documents it cites (none: the note taken away)."""
    clean = _GONE.sub("", reply_html)
    if not gone:
        return clean
    names = ", ".join(esc_inline(g) for g in gone)
    note = (f'<div class="qa-gone">Source removed from the documents: {names}. '
            f"This reply may no longer hold; ask again.</div>")
    return _REPLY_OPEN.sub(lambda m: m.group(1) + note, clean, count=1)
