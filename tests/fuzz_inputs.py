"""Inputs for the loader fuzzers (tests/test_fuzz_loaders.py): hypothesis strategies that write odd but
plausible files of each format, with a sentence planted where a reader would see it, and mutations of real
files (the project's own test documents among them).

Grammar-aware generators: HTML tag soup (unclosed and deeply nested tags, entities, comments, scripts,
styles, CDATA, self-closed tags), Markdown edge cases, text in many encodings with and without a BOM,
RTF groups and control words. Mutations: bytes (truncated, bit-flipped, overwritten, spans deleted or
repeated), PDF structure (duplicated xref, trailing junk, a wrong startxref, a huge page count) and zip
packages (members reordered, recompressed, added with odd names, dropped, duplicated, their XML cut or
inflated). Each strategy returns ``Case``: the file's bytes, its suffix, the planted sentence, and whether
that sentence must come back (False when the mutation may have destroyed it).
"""

from __future__ import annotations

import codecs
import html as html_lib
import io
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from tests import fixtures
from tests.fuzzing import STUB_TEXT

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    data: bytes
    suffix: str
    planted: str | None = None
    must_keep: bool = True
    note: str = ""

    def write(self, folder: Path, stem: str = "input") -> Path:
        path = folder / f"{stem}{self.suffix}"
        path.write_bytes(self.data)
        return path


WORDS = ("harbour glacier orchard lighthouse delta quarry meadow canal bridge beacon ferry summit valley granite "
         "archive tunnel observatory vineyard").split()


@st.composite
def planted_sentences(draw) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=3, max_size=7))
    return f"The {' '.join(words)} marker {draw(st.integers(100, 99999))} was planted here."


# letters of many scripts, punctuation and symbols: text in any encoding is drawn from the ones it can encode
POOL = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()-/"
        "àáâäçèéêëìíîïñòóôöùúûüÿßøåæœÀÉÖÜÑ€“”‘’—…«»°§"
        "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМН"
        "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔ"
        "אבגדהוזחטיכלמנסעפצקרשת"
        "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
        "日本語中文字漢東京大学国人年月"
        "あいうえおかきくけこさしすせそアイウエオ"
        "한국어글자서울대학교"
        "ąćęłńóśźżčďěňřšťůž"
        "😀🚀")


@cache
def alphabet(codec: str) -> str:
    out = []
    for ch in POOL:
        try:
            if ch.encode(codec).decode(codec) == ch:
                out.append(ch)
        except (UnicodeError, LookupError):
            pass
    return "".join(out)


# --- text in many encodings ---------------------------------------------------------------------------

# (codec, BOM written by hand or None); "utf-16" and "utf-32" write their own BOM
ENCODINGS = [
    ("utf-8", None), ("utf-8", codecs.BOM_UTF8), ("utf-16", None), ("utf-16-le", None), ("utf-16-be", None),
    ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32", None),
    ("utf-32-le", None), ("utf-32-be", None), ("latin-1", None), ("cp1252", None), ("cp1250", None),
    ("cp1251", None), ("koi8-r", None), ("iso8859-7", None), ("cp1253", None), ("iso8859-8", None),
    ("cp1256", None), ("shift_jis", None), ("euc-jp", None), ("gb18030", None), ("big5", None), ("euc-kr", None),
]
NEWLINES = ("\n", "\r\n", "\r")


@st.composite
def text_files(draw) -> Case:
    codec, bom = draw(st.sampled_from(ENCODINGS))
    letters = alphabet(codec)
    lines = draw(st.lists(st.text(st.sampled_from(letters), max_size=60), max_size=12))
    planted = draw(planted_sentences())
    lines.insert(draw(st.integers(0, len(lines))), planted)
    newline = draw(st.sampled_from(NEWLINES))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    return Case((bom or b"") + text.encode(codec), ".txt", planted, note=f"{codec}{' +BOM' if bom else ''}")


# --- Markdown -------------------------------------------------------------------------------------------

_md_text = st.text(st.sampled_from(alphabet("utf-8") + "*_`[]()!<>#\\|~&"), max_size=40)


@st.composite
def _md_block(draw) -> str:
    kind = draw(st.integers(0, 15))
    text = draw(_md_text)
    k = draw(st.integers(1, 8))
    if kind == 0:
        return "#" * k + " " + text + draw(st.sampled_from(["", " ##", " #"]))
    if kind == 1:  # setext heading, maybe over several lines
        return text + "\n" + draw(_md_text) + "\n" + draw(st.sampled_from(["===", "---", "=", "-"]))
    if kind == 2:
        return "```" + draw(st.sampled_from(["", "python", "~~~"])) + "\n" + text  # fence left open
    if kind == 3:
        return "```\n# not a heading\n" + text + "\n```"
    if kind == 4:
        return "\n".join("  " * i + draw(st.sampled_from(["- ", "* ", "1. ", "+ "])) + text for i in range(k * 3))
    if kind == 5:
        return ">" * draw(st.integers(1, 200)) + " " + text
    if kind == 6:
        return draw(st.sampled_from(["<div>", "<!--", "<pre>", "<script>", "</div>", "<table>"])) + text
    if kind == 7:
        return "| a | b |\n|---|:-:|\n| " + text + " | x |"
    if kind == 8:
        n = draw(st.integers(1, 300))
        return draw(st.sampled_from(["*", "_", "[", "`", "**", "<"])) * n + text
    if kind == 9:
        return "[ref]: http://example.com/" + text.replace(" ", "") + ' "title"'
    if kind == 10:
        return "    " + text
    if kind == 11:
        return "\t" * k + text
    if kind == 12:
        n = draw(st.integers(1, 500))
        return "[" * n + text + "]" * n + "(" * n
    if kind == 13:
        return "#" * k + text  # no space: not a heading
    if kind == 14:
        return text + "  \n" + text + "\\\n" + text
    return text


@st.composite
def markdown_files(draw) -> Case:
    blocks = draw(st.lists(_md_block(), max_size=15))
    planted = draw(planted_sentences())
    blocks.insert(draw(st.integers(0, len(blocks))), planted)
    newline = draw(st.sampled_from(NEWLINES))
    separator = draw(st.sampled_from(["\n\n", "\n"]))
    text = separator.join(blocks).replace("\n", newline)
    # a planted sentence inside an open code fence or HTML block is still in the file's text
    return Case(text.encode("utf-8"), draw(st.sampled_from([".md", ".markdown"])), planted)


# --- HTML tag soup ----------------------------------------------------------------------------------------

TAGS = ("div span font b i p a table tr td th tbody ul ol li h1 h2 h3 h4 section article em strong blockquote pre "
        "center dl dt dd form label small big u s nav main header footer custom-tag o:p abbr cite code sup sub "
        "caption figure figcaption details summary mark q").split()
ENTITIES = ("&amp;", "&lt;", "&gt;", "&nbsp;", "&#233;", "&#x41;", "&copy;", "&bogus;", "&", " < ", "&#0;",
            "&#xD800;", "&#1114112;", "&quot;", "&eacute", "&NotAnEntity", "&#65", "<3", " > ", "&#13;", "&#x85;",
            "&#x2028;", "&#12;")


@st.composite
def _attributes(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["class", "id", "title", "data-x", "lang", "dir", "href", "align", "x"]))
        value = draw(st.sampled_from(["a", "b c", "x>y", "&amp;", "", "é", "1", "javascript:void(0)"]))
        quote = draw(st.sampled_from(['"', "'", ""]))
        if not quote and (not value or any(c in value for c in " >'\"")):
            quote = '"'
        parts.append(f" {name}={quote}{value}{quote}" if draw(st.booleans()) else f" {name}")
    return "".join(parts)


@st.composite
def _soup_token(draw, deep: bool = True) -> str:
    kind = draw(st.integers(0, 17 if deep else 15))
    tag = draw(st.sampled_from(TAGS))
    if kind <= 3:
        return f"<{tag}{draw(_attributes())}>"
    if kind <= 5:
        return f"</{tag}>"
    if kind <= 8:
        words = draw(st.lists(st.sampled_from(WORDS + list(ENTITIES) + ["é", "日本", "\n", "\t", "  "]), max_size=8))
        return " ".join(words)
    if kind == 9:
        return "<!-- " + draw(st.sampled_from(["<div>", "</p>", "-- x", "<script>", "note"])) + " -->"
    if kind == 10:
        return draw(st.sampled_from([
            '<script>var s = "<p>scriptword</p>"; if (a < b && c > d) {}</script>',
            "<style>p { color: red } .styleword {}</style>",
            "<SCRIPT type=module>import x from './y.js'</SCRIPT >",
            '<script src="a.js"></script>',
            "<title>titleword</title>",
            "<textarea>areaword <b>not bold</b></textarea>",
        ]))
    if kind == 11:
        return draw(st.sampled_from(["<!DOCTYPE html>", "<![CDATA[ cdataword ]]>", "<?xml version='1.0'?>",
                                     "<!doctype html public '-//W3C//DTD HTML 4.01//EN'>", "<!>", "</>", "<>"]))
    if kind == 12:
        return draw(st.sampled_from(["<br>", "<br/>", "<img src=x alt='alt word'>", "<hr>", "<input value='z'>",
                                     "<wbr>", "<meta charset=utf-8>", "<link rel=stylesheet href=x>"]))
    if kind == 13:
        return f"<{tag}/>"
    if kind == 14:
        return '<span style="display:none">hiddenword</span>'
    if kind == 15:
        return draw(st.sampled_from(["<html>", "</html>", "<body>", "</body>", "<head>", "</head>"]))
    n = draw(st.integers(1, 1000))
    if kind == 16:  # unclosed: tag soup that nests as deep as it goes
        tags = draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=3))
        return "".join(f"<{tags[i % len(tags)]}>" for i in range(n))
    return f"<{tag}>" * n + draw(st.sampled_from(WORDS)) + f"</{tag}>" * n


def _visible(planted: str) -> str:
    return "<p>" + html_lib.escape(planted, quote=False) + "</p>"


@st.composite
def html_soups(draw, deep: bool = True) -> tuple[str, str]:
    """(markup, planted sentence): tag soup with the sentence in a paragraph somewhere in it."""
    tokens = draw(st.lists(_soup_token(deep), max_size=40))
    planted = draw(planted_sentences())
    tokens.insert(draw(st.integers(0, len(tokens))), _visible(planted))
    return "".join(tokens), planted


@st.composite
def html_files(draw) -> Case:
    markup, planted = draw(html_soups())
    codec = draw(st.sampled_from(["utf-8", "utf-16", "cp1252", "utf-8-sig"]))
    data = markup.encode(codec, errors="xmlcharrefreplace")
    return Case(data, draw(st.sampled_from([".html", ".htm"])), planted, note=codec)


DEEP_SHAPES = ("unclosed-font", "unclosed-div", "closed-div", "lists", "tables", "self-closed", "mixed", "blocks")


def deep_page(shape: str, depth: int, heading: str, planted: str) -> str:
    """A page nested ``depth`` levels deep in one of ``DEEP_SHAPES``, with a heading and the planted
    sentence at the bottom of the nesting and a closing paragraph after it."""
    inner = f"<h2>{heading}</h2><p>{planted}</p>"
    if shape == "unclosed-font":
        body = "<font size=2>" * depth + "Deep text begins. " + inner
    elif shape == "unclosed-div":
        body = "<div class=box>" * depth + inner
    elif shape == "closed-div":
        body = "<div>" * depth + inner + "</div>" * depth
    elif shape == "lists":
        body = "<ul><li>item" * depth + inner + "</li></ul>" * depth
    elif shape == "tables":  # (inscriptis drops a heading that follows text in its cell, at any depth)
        body = "<table><tr><td>" * depth + inner + "</td></tr></table>" * depth
    elif shape == "self-closed":
        body = "<div/>" * depth + "<span>" * depth + inner
    elif shape == "mixed":
        body = "".join(("<div>", "<b>", "<span>", "<blockquote>")[i % 4] for i in range(depth)) + inner
    else:
        body = "<p>para</p><div>" * depth + inner
    return f"<html><head><title>Deep page</title></head><body><h1>Top heading</h1>{body}<p>After the depths.</p>"


@st.composite
def deep_html_files(draw) -> tuple[Case, str]:
    shape = draw(st.sampled_from(DEEP_SHAPES))
    depth = draw(st.sampled_from([200, 255, 256, 257, 300, 1000, 5000]))
    heading = "Heading " + draw(st.sampled_from(WORDS))
    planted = draw(planted_sentences())
    return Case(deep_page(shape, depth, heading, planted).encode(), ".html", planted, note=f"{shape}-{depth}"), heading


# --- RTF ------------------------------------------------------------------------------------------------


@st.composite
def _rtf_token(draw) -> str:
    kind = draw(st.integers(0, 14))
    if kind <= 3:
        return " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5))) + " "
    if kind == 4:
        return draw(st.sampled_from(["\\b ", "\\b0 ", "\\i ", "\\fs24 ", "\\pard ", "\\par ", "\\line ", "\\tab ",
                                     "\\ql ", "\\f1 ", "\\cf2 ", "\\plain ", "\\sect ", "\\page "]))
    if kind == 5:
        return draw(st.sampled_from(["\\'e9", "\\'fc", "\\'80", "\\'ff", "\\u233?", "\\u-3913?", "\\uc1 ",
                                     "\\~", "\\-", "\\{", "\\}", "\\\\", "\\emdash "]))
    if kind == 6:
        return draw(st.sampled_from(["{\\fonttbl{\\f0\\fswiss Helvetica;}{\\f1\\froman\\fcharset204 Times;}}",
                                     "{\\colortbl;\\red0\\green0\\blue0;\\red255\\green0\\blue0;}",
                                     "{\\*\\generator Fuzz 1.0;}", "{\\info{\\title Hidden title}{\\author A}}",
                                     "{\\*\\unknowndest hiddenword}", "{\\stylesheet{\\s1 Heading 1;}}",
                                     "{\\fonttbl{\\f2\\fcharset78 Osaka;}}\\f2\\'82\\'a0 ",
                                     "{\\fonttbl{\\f3\\fcharset128 MS Mincho;}}\\f3\\'82\\'a0\\'82 ",
                                     "\\ansicpg99999 ", "\\ansicpg1251\\'e0 "]))
    if kind == 7:
        return "{" + " ".join(draw(st.lists(st.sampled_from(WORDS), max_size=3))) + "}"
    if kind == 8:  # an unclosed group (an extra '}' would end the document early: Word drops what follows)
        return "{"
    if kind == 9:
        n = draw(st.integers(1, 3000))
        return "{" * n + draw(st.sampled_from(WORDS)) + " " + "}" * n
    if kind == 10:
        return '{\\field{\\*\\fldinst{HYPERLINK "http://example.com/"}}{\\fldrslt{link words}}}'
    if kind == 11:
        return "{\\pict\\pngblip\\picw10\\pich10 89504e470d0a1a0a0000}"
    if kind == 12:
        return "{\\pict\\bin5 \x00\x01{}\\}"
    if kind == 13:
        return "\\trowd\\cellx1000\\cellx2000 cell one\\cell cell two\\cell\\row "
    # malformed control words; a lone backslash keeps a space after it, or it would escape the next token's
    # backslash and turn its '\\}' into a real '}' that ends the document (and Word drops what follows)
    return draw(st.sampled_from(["\\" + "x" * 40 + " ", "\\a1234567890123 ", "\\ ", "\\' ", "\\'z", "\\u ",
                                 "\\u99999999?"]))


@st.composite
def rtf_files(draw) -> Case:
    tokens = draw(st.lists(_rtf_token(), max_size=30))
    planted = draw(planted_sentences())
    tokens.insert(draw(st.integers(0, len(tokens))), "\\par " + planted + "\\par ")
    rtf = "{\\rtf1\\ansi\\deff0 " + "".join(tokens) + "}"
    return Case(rtf.encode("latin-1", errors="replace"), ".rtf", planted)


# --- byte mutations ---------------------------------------------------------------------------------------


@st.composite
def mutate_bytes(draw, data: bytes) -> tuple[bytes, str]:
    """One damaging edit of ``data``: truncated, bits flipped, a span overwritten, deleted or repeated, or
    random bytes inserted."""
    n = len(data)
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "delete", "repeat", "insert"]))
    if n == 0:
        return draw(st.binary(max_size=64)), "random"
    i = draw(st.integers(0, n - 1))
    j = min(n, i + draw(st.integers(1, 512)))
    if kind == "truncate":
        return data[:i], f"truncated at {i}/{n}"
    if kind == "flip":
        b = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            b[draw(st.integers(0, n - 1))] ^= 1 << draw(st.integers(0, 7))
        return bytes(b), "bits flipped"
    if kind == "overwrite":
        junk = draw(st.binary(min_size=1, max_size=j - i))
        return data[:i] + junk + data[i + len(junk):], "overwritten"
    if kind == "delete":
        return data[:i] + data[j:], "span deleted"
    if kind == "repeat":
        return data[:j] + data[i:j] * draw(st.integers(1, 4)) + data[j:], "span repeated"
    return data[:i] + draw(st.binary(min_size=1, max_size=256)) + data[i:], "bytes inserted"


# --- PDF ------------------------------------------------------------------------------------------------

PDF_PLANTED = "The granite observatory marker 4242 was planted here."


@cache
def pdf_bases() -> dict[str, bytes]:
    """Real PDFs to mutate, each holding ``PDF_PLANTED``."""
    from pypdf import PdfReader, PdfWriter

    two = fixtures.make_pdf_bytes(["A first page about harbours.", PDF_PLANTED])
    bases = {
        "two-pages": two,
        "titled": fixtures.make_pdf_bytes([PDF_PLANTED], title="Fuzz Title"),
        "uncompressed": fixtures.make_pdf_bytes([PDF_PLANTED, "Second page."], compress=False),
        "with-blank-scan": fixtures.make_pdf_bytes([PDF_PLANTED], image=True),
    }
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(two)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    bases["owner-locked"] = out.getvalue()
    return bases


def _duplicate_xref(data: bytes) -> bytes:
    at = data.rfind(b"xref")
    return data + b"\n" + data[at:] if at >= 0 else data


def _wrong_startxref(data: bytes) -> bytes:
    at = data.rfind(b"startxref")
    if at < 0:
        return data
    end = data.find(b"%%EOF", at)
    return data[:at] + b"startxref\n12345\n" + (data[end:] if end >= 0 else b"")


def _huge_count(data: bytes) -> bytes:
    return data.replace(b"/Count 2", b"/Count 999999999", 1).replace(b"/Count 1", b"/Count 999999999", 1)


@st.composite
def pdf_files(draw) -> Case:
    how = draw(st.sampled_from(["fresh", "structure", "bytes", "bytes"]))
    if how == "fresh":
        planted = draw(planted_sentences())
        pages = draw(st.lists(st.text(st.sampled_from(alphabet("latin-1")), max_size=200), max_size=3))
        pages.insert(draw(st.integers(0, len(pages))), planted)
        data = fixtures.make_pdf_bytes(pages, compress=draw(st.booleans()))
        return Case(data, ".pdf", planted, note="fresh")
    name = draw(st.sampled_from(sorted(pdf_bases())))
    base = pdf_bases()[name]
    if how == "structure":
        edit = draw(st.sampled_from(["duplicate-xref", "trailing-junk", "wrong-startxref", "huge-count",
                                     "no-eof", "crlf"]))
        data = {"duplicate-xref": _duplicate_xref, "wrong-startxref": _wrong_startxref, "huge-count": _huge_count,
                "trailing-junk": lambda d: d + b"\n% junk after the end\n" + bytes(range(256)),
                "no-eof": lambda d: d[: d.rfind(b"%%EOF")] if b"%%EOF" in d else d,
                "crlf": lambda d: d.replace(b"\nxref", b"\r\nxref")}[edit](base)
        return Case(data, ".pdf", PDF_PLANTED, must_keep=True, note=f"{name}: {edit}")
    data, edit = draw(mutate_bytes(base))
    return Case(data, ".pdf", PDF_PLANTED, must_keep=False, note=f"{name}: {edit}")


# --- zip packages: Word, PowerPoint, OpenDocument, EPUB -------------------------------------------------

OFFICE_PLANTED = "The vineyard canal marker 5151 was planted here."
_safe_text = st.text(st.sampled_from(alphabet("utf-8").replace("😀", "").replace("🚀", "")), max_size=80)


def docx_bytes(blocks: list[tuple[str, str]]) -> bytes:
    import docx

    d = docx.Document()
    for kind, text in blocks:
        if kind == "heading":
            d.add_heading(text, 1)
        elif kind == "table":
            table = d.add_table(rows=2, cols=2)
            for r in range(2):
                for c in range(2):
                    table.cell(r, c).text = text if (r, c) == (1, 1) else f"cell {r}{c}"
        else:
            d.add_paragraph(text)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def pptx_bytes(blocks: list[tuple[str, str]]) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    p = Presentation()
    for kind, text in blocks:
        slide = p.slides.add_slide(p.slide_layouts[1])
        slide.shapes.title.text = "Slide " + kind
        if kind == "table":
            table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
            table.cell(1, 1).text = text
        elif kind == "notes":
            slide.notes_slide.notes_text_frame.text = text
        else:
            slide.placeholders[1].text = text
    out = io.BytesIO()
    p.save(out)
    return out.getvalue()


def odt_bytes(blocks: list[tuple[str, str]]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    doc = OpenDocumentText()
    for kind, text in blocks:
        if kind == "heading":
            doc.text.addElement(H(outlinelevel=1, text=text))
        elif kind == "table":
            table = Table()
            table.addElement(TableColumn(numbercolumnsrepeated=2))
            row = TableRow()
            for value in ("cell", text):
                cell = TableCell()
                cell.addElement(P(text=value))
                row.addElement(cell)
            table.addElement(row)
            doc.text.addElement(table)
        else:
            doc.text.addElement(P(text=text))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def epub_bytes(blocks: list[tuple[str, str]]) -> bytes:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("fuzz-1")
    book.set_title("Fuzz Book")
    book.set_language("en")
    items = []
    for number, (kind, text) in enumerate(blocks):
        item = epub.EpubHtml(title=f"c{number}", file_name=f"c{number}.xhtml")
        body = f"<h1>{html_lib.escape(text)}</h1>" if kind == "heading" else f"<p>{html_lib.escape(text)}</p>"
        item.content = f"<html><body>{body}</body></html>"
        book.add_item(item)
        items.append(item)
    book.toc, book.spine = items, items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


MAKERS = {".docx": docx_bytes, ".pptx": pptx_bytes, ".odt": odt_bytes, ".epub": epub_bytes}
KINDS = {".docx": ["heading", "paragraph", "table"], ".pptx": ["body", "table", "notes"],
         ".odt": ["heading", "paragraph", "table"], ".epub": ["heading", "paragraph"]}


@cache
def office_base(suffix: str) -> bytes:
    kinds = KINDS[suffix]
    return MAKERS[suffix]([(kinds[0], "A heading about orchards"), (kinds[-1], OFFICE_PLANTED),
                           (kinds[1 % len(kinds)], "More words about the harbour.")])


def members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def rezip(parts: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED, comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, body in parts:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else compression
            z.writestr(info, body)
        z.comment = comment
    return out.getvalue()


_MAIN = {".docx": "word/document.xml", ".pptx": "ppt/slides/slide2.xml", ".odt": "content.xml", ".epub": "EPUB/c1.xhtml"}


def _billion_laughs() -> bytes:
    """An XML prologue whose entity &lol9; expands to a billion 'lol's (3 GB) if a parser lets it."""
    entities = [b'<!ENTITY lol0 "lol">']
    for i in range(1, 10):
        entities.append(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10))
    return b'<?xml version="1.0"?><!DOCTYPE lolz [' + b"".join(entities) + b"]>"


BILLION_LAUGHS = _billion_laughs()


@st.composite
def office_files(draw, suffix: str) -> Case:
    """A package of this format: made fresh with its library (the sentence must come back), edited
    losslessly at the zip level (must come back too), or damaged."""
    how = draw(st.sampled_from(["fresh", "lossless", "damaged-member", "bytes", "bytes"]))
    kinds = KINDS[suffix]
    if how == "fresh":
        planted = draw(planted_sentences())
        blocks = draw(st.lists(st.tuples(st.sampled_from(kinds), _safe_text), max_size=4 if suffix != ".pptx" else 2))
        blocks.insert(draw(st.integers(0, len(blocks))), (draw(st.sampled_from(kinds)), planted))
        if suffix == ".epub" and draw(st.booleans()):
            # a chapter of tag soup, written into the book as it is (ebooklib's writer would parse it)
            soup, planted = draw(html_soups(deep=True))
            parts = members(MAKERS[suffix](blocks))
            parts = [(n, b"<html><body>" + soup.encode() + b"</body></html>" if n.endswith("c0.xhtml") else b)
                     for n, b in parts]
            return Case(rezip(parts), suffix, planted, note="epub soup chapter")
        return Case(MAKERS[suffix](blocks), suffix, planted, note="fresh")
    base = office_base(suffix)
    parts = members(base)
    if how == "lossless":
        edit = draw(st.sampled_from(["reorder", "stored", "odd-member", "comment", "directory", "empty-member"]))
        if edit == "reorder":
            parts = draw(st.permutations(parts))
            if suffix == ".epub":  # mimetype stays first, as readers expect
                parts = sorted(parts, key=lambda p: p[0] != "mimetype")
        elif edit == "odd-member":
            name = draw(st.sampled_from(["../../evil.txt", "a" * 200, "ünïcödé.xml", "/abs/path.xml", "x\\y.bin",
                                         "word/../../z.xml", "customXml/item9.xml"]))
            parts.append((name, draw(st.binary(max_size=200))))
        elif edit == "directory":
            parts.append(("extra/", b""))
        elif edit == "empty-member":
            parts.append(("extra/empty.xml", b""))
        data = rezip(parts, zipfile.ZIP_STORED if edit == "stored" else zipfile.ZIP_DEFLATED,
                     comment=b"a comment" if edit == "comment" else b"")
        return Case(data, suffix, OFFICE_PLANTED, note=f"lossless: {edit}")
    if how == "damaged-member":
        edit = draw(st.sampled_from(["drop", "duplicate", "cut-xml", "flip-xml", "entities", "deep-xml", "huge-name"]))
        index = draw(st.integers(0, len(parts) - 1))
        name, body = parts[index]
        main = [i for i, (n, _) in enumerate(parts) if n == _MAIN[suffix]]
        if edit in ("cut-xml", "flip-xml", "entities", "deep-xml") and main and draw(st.booleans()):
            index = main[0]
            name, body = parts[index]
        if edit == "drop":
            del parts[index]
        elif edit == "duplicate":
            parts.append((name, draw(st.binary(max_size=100))))
        elif edit == "cut-xml":
            parts[index] = (name, body[: draw(st.integers(0, len(body)))])
        elif edit == "flip-xml":
            mutated, _ = draw(mutate_bytes(body))
            parts[index] = (name, mutated)
        elif edit == "entities":
            start = body.find(b"?>") + 2 if body.startswith(b"<?xml") else 0
            parts[index] = (name, BILLION_LAUGHS + body[start:].replace(b">", b">&lol9;", 1))
        elif edit == "deep-xml":
            n = draw(st.integers(100, 5000))
            at = body.rfind(b"</")
            parts[index] = (name, body[:at] + b"<x>" * n + b"deep" + b"</x>" * n + body[at:] if at > 0 else body)
        else:
            parts[index] = ("n" * 5000 + name, body)
        return Case(rezip(parts), suffix, OFFICE_PLANTED, must_keep=False, note=f"damaged member: {edit} {name}")
    data, edit = draw(mutate_bytes(base))
    return Case(data, suffix, OFFICE_PLANTED, must_keep=False, note=edit)


# --- images (OCR) ---------------------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int], mode: str = "L", frames: int = 1, text: str | None = None) -> bytes:
    from PIL import Image, ImageDraw

    def frame():
        image = Image.new("L", size, 255)
        if text:
            ImageDraw.Draw(image).text((4, 4), text, fill=0)
        return image.convert(mode)

    out = io.BytesIO()
    first = frame()
    extra = [frame() for _ in range(frames - 1)]
    first.save(out, format=fmt, save_all=bool(extra), append_images=extra) if extra else first.save(out, format=fmt)
    return out.getvalue()


SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif"}
MODES = {"PNG": ["1", "L", "P", "RGB", "RGBA", "LA", "I;16"], "JPEG": ["L", "RGB", "CMYK"],
         "TIFF": ["1", "L", "RGB", "RGBA", "CMYK", "I;16", "F"]}


@cache
def image_bases() -> dict[str, bytes]:
    return {"png": image_bytes("PNG", (120, 40)), "jpg": image_bytes("JPEG", (120, 40), "RGB"),
            "tif": image_bytes("TIFF", (80, 30), frames=3)}


@st.composite
def image_files(draw) -> Case:
    """Images for the loader with a stub OCR engine: any decodable image gives the stub's text."""
    if draw(st.booleans()):
        fmt = draw(st.sampled_from(sorted(MODES)))
        size = (draw(st.integers(1, 300)), draw(st.integers(1, 300)))
        data = image_bytes(fmt, size, draw(st.sampled_from(MODES[fmt])), draw(st.integers(1, 3)) if fmt == "TIFF" else 1)
        suffix = SUFFIX[fmt] if fmt != "JPEG" else draw(st.sampled_from([".jpg", ".jpeg"]))
        return Case(data, suffix, STUB_TEXT, note=f"fresh {fmt} {size}")
    name = draw(st.sampled_from(sorted(image_bases())))
    data, edit = draw(mutate_bytes(image_bases()[name]))
    return Case(data, "." + name, STUB_TEXT, must_keep=False, note=f"{name}: {edit}")


# --- the project's own test files, damaged ---------------------------------------------------------------


@cache
def project_files() -> list[tuple[str, bytes]]:
    """(suffix, bytes) of documents the project itself holds or its tests make."""
    from tests.test_formats import RTF

    files = [(p.suffix, p.read_bytes()) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    files += [(".md", (ROOT / "README.md").read_bytes()), (".md", (ROOT / "docs" / "ARCHITECTURE.md").read_bytes()),
              (".md", fixtures.MARKDOWN.encode()), (".html", fixtures.HTML.encode()), (".rtf", RTF),
              (".pdf", fixtures.make_pdf_bytes(fixtures.PDF_PAGES))]
    files += [(suffix, office_base(suffix)) for suffix in sorted(MAKERS)]
    files += [(".png", image_bases()["png"])]
    return files


@st.composite
def project_mutations(draw) -> Case:
    suffix, data = draw(st.sampled_from(project_files()))
    mutated, edit = draw(mutate_bytes(data))
    if draw(st.integers(0, 5)) == 0:  # spliced with another of the project's files
        other = draw(st.sampled_from(project_files()))[1]
        mutated = mutated[: len(mutated) // 2] + other[len(other) // 2:]
        edit += ", spliced"
    return Case(mutated, suffix, None, must_keep=False, note=edit)
