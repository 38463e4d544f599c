"""Keep the text of HTML nested deeper than an HTML parser will go.

libxml2 (lxml, under inscriptis) stops building the tree at 256 levels of nesting ("Excessive depth in
document") and drops everything after that point, and inscriptis walks the tree recursively. Tag soup
reaches that depth quickly: a page of unclosed ``<font>`` or ``<div>`` tags, or a generated page that
nests a box per item, holds text any browser shows. ``flatten`` rewrites such a page so that no element
sits deeper than ``MAX_DEPTH``: past that depth, tags are dropped (a block-level one leaves a ``<br>``, so
its text keeps its own line), headings are kept (they name sections), and script, style and comment
contents stay whole (so they stay hidden). Text is never dropped. Pages that are not that deep are
returned unchanged, so their extraction does not change.

The nesting is modelled the way libxml2 builds it, erring on the deep side: an end tag closes the
elements opened after its own unless one of them outranks it (libxml2's end-tag priorities), a few start
tags close the element they cannot sit in (``<p>`` in ``<p>``, ``<li>`` in ``<li>``, table rows and
cells), void elements and ``<x/>`` never open. The model is only a first guess: ``documents.html_to_text``
flattens a page only when libxml2 reports its depth limit, and flattens harder (``DEPTHS``) while it still
does. The scan finds each ``<`` and ``>`` with ``str.find`` and never looks back, so it runs in linear
time on any input.
"""

from __future__ import annotations

import re

MAX_DEPTH = 128  # libxml2 gives up at 256; inscriptis recurses once per level
# the depths tried in turn while libxml2 still finds the flattened page too deep (the model undercounts)
DEPTHS = (MAX_DEPTH, 32, 4)

VOID = frozenset("area base basefont bgsound br col embed frame hr img input keygen link meta param source track "
                 "wbr".split())
# elements whose content is text up to their end tag (libxml2 2.14 tokenizes them as HTML5 does)
RAW = frozenset("script style textarea title xmp iframe noembed noframes plaintext".split())
HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# dropping one of these would join its text to its neighbour's line: a dropped one leaves a <br>
BLOCK = frozenset("address article aside blockquote center dd details dialog dir div dl dt fieldset figcaption figure "
                  "footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p pre section summary table "
                  "tbody td tfoot th thead tr ul caption".split())
# libxml2's htmlEndPriority: an end tag is ignored when an element of higher priority is open above its own
_END_PRIORITY = {"div": 150, "td": 160, "th": 160, "tr": 170, "thead": 180, "tbody": 180, "tfoot": 180,
                 "table": 190, "head": 200, "body": 200, "html": 220}
# a start tag (key) closes these when one of them is the innermost open element: what libxml2 2.14 does
# (checked one by one; HTML5's new elements, <section> and the like, close nothing in libxml2, and <dt>
# and <dd> do not close themselves). A rule missing here only makes the model count deeper than libxml2.
_CLOSES = {
    **{tag: {"p"} for tag in ("address blockquote center dir div dl fieldset form h1 h2 h3 h4 h5 h6 hr menu ol p "
                              "pre table ul caption tbody").split()},
    "li": {"p", "li"}, "dt": {"p", "dd"}, "dd": {"p", "dt"},
    "tr": {"p", "tr", "td", "th"}, "td": {"p", "td", "th"}, "th": {"p", "td", "th"}, "option": {"option"},
}

_NAME = re.compile(r"[A-Za-z][^\s/<>]*")


def _priority(tag: str) -> int:
    return _END_PRIORITY.get(tag, 100)


class _Open:
    __slots__ = ("kept", "name")

    def __init__(self, name: str, kept: bool) -> None:
        self.name, self.kept = name, kept


class _Flattener:
    """One pass over the markup, modelling the open elements and writing the bounded copy."""

    def __init__(self, html: str, max_depth: int) -> None:
        self.html, self.max_depth = html, max_depth
        self.out: list[str] = []
        self.stack: list[_Open] = []
        self.kept_depth = 0  # open elements that were written (what the parser will see)
        self.deep_heading = False  # a heading kept past max_depth is open
        self.changed = False
        self.pending_break = False  # a dropped block element ended a line: one <br> before the next text
        self.next_gt = -1  # where the next '>' is (found once for a run of '<' without one)

    # --- the open elements -----------------------------------------------------------------------------

    def push(self, name: str, kept: bool) -> None:
        self.stack.append(_Open(name, kept))
        self.kept_depth += kept

    def pop_to(self, index: int, raw_end: str | None = None) -> None:
        """Close the elements from the top down to ``stack[index]``; kept ones get an end tag (the real
        one for ``stack[index]`` when it is given), a dropped block one a line break."""
        while len(self.stack) > index:
            top = self.stack.pop()
            last = len(self.stack) == index
            if top.kept:
                self.kept_depth -= 1
                if top.name in HEADINGS and self.kept_depth >= self.max_depth:
                    self.deep_heading = False
                self.out.append(raw_end if last and raw_end is not None else f"</{top.name}>")
            elif last and top.name in BLOCK:
                self.pending_break = True

    def start(self, name: str, raw: str, self_closing: bool) -> None:
        while self.stack and self.stack[-1].name in _CLOSES.get(name, ()):
            self.pop_to(len(self.stack) - 1)
        if name in VOID or self_closing:
            self.out.append(raw)
            return
        if self.kept_depth < self.max_depth or (name in HEADINGS and not self.deep_heading):
            if self.kept_depth >= self.max_depth:
                self.deep_heading = True
            if name in BLOCK:  # it starts a line itself
                self.pending_break = False
            self.push(name, True)
            self.out.append(raw)
        else:
            self.changed = True
            self.push(name, False)
            if name in BLOCK:
                self.pending_break = True

    def end(self, name: str, raw: str) -> None:
        priority = _priority(name)
        for i in range(len(self.stack) - 1, -1, -1):
            open_name = self.stack[i].name
            if open_name == name:
                self.pop_to(i, raw if self.stack[i].kept else None)
                return
            if _priority(open_name) > priority:
                break
        # an end tag with no element to close: libxml2 ignores it, and so does the copy

    # --- the scan --------------------------------------------------------------------------------------

    def run(self) -> str:
        html, out = self.html, self.out
        i, n = 0, len(html)
        while i < n:
            lt = html.find("<", i)
            if lt < 0:
                self.text(html[i:])
                break
            self.text(html[i:lt])
            i = self.markup(lt)
        self.pop_to(0)
        return "".join(out)

    def text(self, text: str) -> None:
        if self.pending_break and text and not text.isspace():
            self.out.append("<br>")
            self.pending_break = False
        self.out.append(text)

    def markup(self, lt: int) -> int:
        """Handle the markup at ``html[lt] == '<'``; returns where the scan goes on."""
        html, out = self.html, self.out
        if html.startswith("<!--", lt):
            end = html.find("-->", lt + 4)
            stop = len(html) if end < 0 else end + 3
            out.append(html[lt:stop])
            return stop
        if html.startswith(("<!", "<?"), lt):
            end = html.find(">", lt)
            stop = len(html) if end < 0 else end + 1
            out.append(html[lt:stop])
            return stop
        if self.next_gt < lt:
            self.next_gt = html.find(">", lt)
            if self.next_gt < 0:  # no '>' after this: the rest is text
                self.text(html[lt:])
                return len(html)
        gt = self.next_gt
        closing = html.startswith("</", lt)
        name_match = _NAME.match(html, lt + (2 if closing else 1))
        if name_match is None:  # a lone '<' is text
            self.text("<")
            return lt + 1
        stop = gt + 1
        raw = html[lt:stop]
        name = name_match.group().lower()
        if closing:
            self.end(name, raw)
            return stop
        if name in RAW:  # its content up to its end tag, written whole
            end = re.compile(r"</" + re.escape(name) + r"[\s/>]", re.IGNORECASE).search(html, stop)
            close = len(html) if end is None else html.find(">", end.start())
            close = len(html) if close < 0 else close + 1
            out.append(html[lt:close])
            return close
        self.start(name, raw, raw.endswith("/>"))
        return stop


def flatten(html: str, max_depth: int = MAX_DEPTH) -> str:
    """``html`` with no element nested deeper than ``max_depth`` (plus one heading); unchanged when none
    was."""
    flattener = _Flattener(html, max_depth)
    result = flattener.run()
    return result if flattener.changed else html


# --- what the markup holds, without a parser ----------------------------------------------------------

_HIDDEN = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style|title)\b.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/<>]*)[^<>]*>|<[!?][^<>]*>")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*")


def plain_text(html: str) -> str:
    """The text a page holds, by stripping its markup: what a browser shows, less the layout (block
    elements and ``<br>`` end a line; comments, scripts, styles and the title are dropped). Linear time,
    no nesting limit: the measure of what a parser's text should hold, and the last resort when a parser
    keeps far less."""
    import html as html_lib

    def tag(match: re.Match) -> str:
        name = (match.group(2) or "").lower()
        return "\n" if name in BLOCK or name == "br" else ""

    text = html_lib.unescape(_TAG.sub(tag, _HIDDEN.sub("", html)))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def letters(text: str) -> int:
    """Characters other than whitespace: how much text there is, whatever the layout."""
    return len(text) - sum(text.count(ch) for ch in " \n\t\r\f\v\xa0")
