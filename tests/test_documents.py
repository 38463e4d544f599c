import os

import pytest

from qa.errors import DocumentError
from qa.ingest.documents import load_document, scan_folder

from .fixtures import HTML, MARKDOWN, make_pdf


def test_markdown_keeps_raw_text_and_records_headings_but_not_code_comments(tmp_path):
    path = tmp_path / "solar.md"
    path.write_text(MARKDOWN)
    doc = load_document(path, "solar.md")
    assert doc.text == MARKDOWN
    launch = doc.text.index("Solar Orbiter was launched")
    assert doc.locate(launch).heading == "Launch"
    assert doc.locate(doc.text.index("ten instruments")).heading == "Instruments"
    assert [s.heading for s in doc.sections] == ["Solar Orbiter", "Launch", "Instruments"]


def test_html_text_has_no_script_or_style_and_headings_are_sections(tmp_path):
    path = tmp_path / "g.html"
    path.write_text(HTML)
    doc = load_document(path, "g.html")
    assert "alert" not in doc.text and "color: red" not in doc.text and "pwned" not in doc.text
    assert "Perito Moreno Glacier" in doc.text
    pos = doc.text.index("250 square kilometres")
    assert doc.locate(pos).heading == "Size"
    assert doc.locate(doc.text.index("Perito")).heading == "Glaciers of Patagonia"


def test_pdf_pages_are_kept(tmp_path):
    doc = load_document(make_pdf(tmp_path / "a.pdf"), "a.pdf")
    assert doc.locate(doc.text.index("endorheic")).page == 1
    assert doc.locate(doc.text.index("10 percent")).page == 2


@pytest.mark.parametrize(
    "name,data,expected",
    [
        ("latin1.txt", "Café in Zürich, naïve façade.".encode("latin-1"), "Café in Zürich"),
        ("utf16.txt", "\ufeffHello from UTF-16 with a BOM.".encode("utf-16"), "Hello from UTF-16"),
        ("crlf.txt", b"line one.\r\nline two.\r\n", "line one.\nline two."),
    ],
)
def test_text_encodings_are_decoded(tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    assert expected in load_document(path, name).text


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.txt", b"", "no text"),
        ("blank.md", b"   \n\n  ", "no text"),
        ("binary.txt", bytes(range(256)) * 20, "binary"),
        ("broken.pdf", b"%PDF-1.4\n this is not really a pdf", "PDF"),
        ("data.csv", b"a,b\n1,2\n", "unsupported"),
    ],
)
def test_unusable_files_raise_a_one_line_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DocumentError) as exc:
        load_document(path, name)
    message = str(exc.value)
    assert reason.lower() in message.lower() and "\n" not in message


def test_scan_is_recursive_skips_other_types_hidden_files_and_symlink_loops(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("deep")
    (tmp_path / "top.md").write_text("# top")
    (tmp_path / "table.csv").write_bytes(b"a,b\n1,2\n")
    (tmp_path / ".hidden.txt").write_text("secret")
    os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "loop")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("outside")
    os.symlink(outside, tmp_path / "escape.txt")
    found, skipped = scan_folder(tmp_path, max_bytes=None)
    assert sorted(found) == ["a/b/deep.txt", "top.md"]
    reasons = {s.source: s.reason for s in skipped}
    assert "unsupported" in reasons["table.csv"]
    assert "outside" in reasons["escape.txt"]
    assert any("loop" in r for r in reasons.values())
