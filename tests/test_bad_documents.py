"""Bad documents: each is indexed or skipped with a one-line reason, one bad file never stops a build, and
``qa index`` lists what it skipped and why. (Single-file loader cases are in test_documents.py.)"""

import json
import os

import pytest

from qa import Answerer, build_index
from qa.ingest.documents import load_document

from .conftest import run_qa
from .faults import (
    make_deep_folder,
    make_encrypted_pdf,
    make_png,
    make_scanned_pdf,
    make_truncated_pdf,
    remove_tree,
    skipped_lines,
    write_big_text,
    write_deep_file,
)
from .fixtures import HTML, make_pdf

LIGHTHOUSE = "The Skerryvore lighthouse was completed in 1844 by the engineer Alan Stevenson.\n"
CAFE = "Le café de la gare à Genève est ouvert depuis 1875 ; son propriétaire s'appelle Frédéric Müller.\n"
BRIDGE = "The Oresund Bridge between Copenhagen and Malmö opened to traffic on 1 July 2000.\n"
DEEP = "The Kola Superdeep Borehole reached a depth of 12,262 metres in 1989.\n"


def heuristic(index, embedder):
    return Answerer(index, embedder=embedder, reader="heuristic")


def cited(answerer, answer):
    """Each citation slices its own document's text exactly; returns the cited sources."""
    for c in answer.citations:
        assert answerer.document_text(c.source)[c.start:c.end] == c.text
    return [c.source for c in answer.citations]


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory):
    """A folder holding one of each kind of bad file next to a few good ones, and ``qa index``'s output."""
    tmp = tmp_path_factory.mktemp("bad-documents")
    corpus = tmp / "docs"
    corpus.mkdir()
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.md").write_text("  \n\n\t \n")
    make_png(corpus / "photo.txt")  # binary data named .txt
    (corpus / "noise.txt").write_bytes(bytes(range(1, 256)) * 40)  # binary without a single NUL byte
    (corpus / "cafe.txt").write_bytes(CAFE.encode("latin-1"))
    (corpus / "bridge.txt").write_bytes(BRIDGE.encode("utf-16"))  # with its BOM
    plain = make_pdf(tmp / "plain.pdf")
    make_encrypted_pdf(corpus / "locked.pdf", plain)
    make_encrypted_pdf(corpus / "owner-only.pdf", plain, user_password="")  # opens without a password
    make_truncated_pdf(corpus / "truncated.pdf", plain)
    make_scanned_pdf(corpus / "scanned.pdf", tmp, text="")  # a blank page: nothing for OCR either
    (corpus / "page.html").write_text(HTML)
    write_big_text(corpus / "huge.txt", 50)
    os.mkfifo(corpus / "pipe.txt")  # reading it would block forever
    deep = make_deep_folder(corpus, 40, "level-{i:02d}")
    (deep / "borehole.md").write_text("# Boreholes\n\n" + DEEP)
    (corpus / "links").mkdir()
    os.symlink("..", corpus / "links" / "loop")
    index = tmp / "index"
    first = run_qa("index", corpus, "--index", index, "-q")
    again = run_qa("index", corpus, "--index", index, "-q")
    deep_source = deep.relative_to(corpus).as_posix() + "/borehole.md"
    return corpus, index, first, again, deep_source


SKIPPED = {
    "empty.txt": "no text",
    "blank.md": "no text",
    "photo.txt": "binary data",
    "noise.txt": "binary data",
    "locked.pdf": "encrypted PDF (password required)",
    "truncated.pdf": "unreadable PDF",
    "scanned.pdf": "no extractable text, even after OCR",
    "huge.txt": "over the 20 MB limit (set QA_MAX_FILE_MB",
    "pipe.txt": "not a regular file",
    "links/loop/": "symlink loop",
}


def test_qa_index_skips_each_bad_file_with_a_one_line_reason_and_indexes_the_rest(bad_folder):
    corpus, index, first, again, deep_source = bad_folder
    for r in (first, again):  # the list comes with every run, not only when files change
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr
        noise = [line for line in r.stderr.splitlines() if line.strip() and not line.startswith("skipped ")]
        assert noise == [], "stderr holds only the list of skipped files"
        reasons = skipped_lines(r.stderr)
        assert set(reasons) == set(SKIPPED)
        for source, reason in SKIPPED.items():
            assert reason in reasons[source], (source, reasons[source])
        assert "huge.txt: file is 50" in r.stderr
    assert first.stdout.startswith(f"index {index} from {corpus}: 6 added, 0 updated, 0 removed, 0 unchanged")
    assert "0 added, 0 updated, 0 removed, 6 unchanged" in again.stdout

    stats = run_qa("stats", "--json", "--index", index)
    assert stats.returncode == 0, stats.stderr
    indexed = {d["source"] for d in json.loads(stats.stdout)["by_document"]}
    assert indexed == {"lighthouse.txt", "cafe.txt", "bridge.txt", "owner-only.pdf", "page.html", deep_source}


def test_the_readable_bad_documents_answer_with_exact_citations(bad_folder, embedder):
    corpus, index, first, again, deep_source = bad_folder
    answerer = heuristic(index, embedder)
    assert answerer.document_text("cafe.txt") == CAFE  # Latin-1 decoded exactly (not as Central European)
    assert answerer.document_text("bridge.txt") == BRIDGE

    a = answerer.ask("Who owns the café de la gare in Genève?")
    assert a.found and cited(answerer, a) == ["cafe.txt"] and "Frédéric Müller" in a.answer
    a = answerer.ask("When did the Oresund Bridge open to traffic?")
    assert cited(answerer, a) == ["bridge.txt"] and "1 July 2000" in a.answer
    a = answerer.ask("How deep did the Kola Superdeep Borehole reach?")
    assert cited(answerer, a) == [deep_source] and deep_source.count("/") == 40
    assert a.citations[0].section == "Boreholes" and "12,262 metres" in a.answer
    a = answerer.ask("By 2007 the Aral Sea had declined to what share of its original size?")
    assert cited(answerer, a)[0] == "owner-only.pdf" and a.citations[0].page == 2


def test_rerunning_qa_index_over_unchanged_bad_files_publishes_nothing(bad_folder):
    corpus, index, first, again, deep_source = bad_folder
    assert (index / "CURRENT").read_text().strip() == "gen-000001"


# --- text encodings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec,text", [
    ("latin-1", "Café in Zürich, naïve façade."),
    ("latin-1", "Le café de la gare à Genève est ouvert depuis 1875."),
    ("latin-1", "El niño comió piñata en España."),
    ("latin-1", "Årsmöte i Göteborg: vi äter smörgåsar."),
    ("latin-1", "Øresund connects København and Malmö."),
    ("cp1252", "À bientôt, garçon ! Price: 5 € — “quoted” text…"),
    ("cp1250", "Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig."),  # still Central European
    ("cp1251", "Съешь же ещё этих мягких французских булок, да выпей чаю."),
])
def test_text_in_a_legacy_code_page_is_decoded_exactly(tmp_path, codec, text):
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode(codec))
    assert load_document(path, path.name).text == text


# --- HTML full of scripts and styles ----------------------------------------------------------------------------

SCRIPTED_HTML = """<!doctype html><html><head><title>Salt</title>
<STYLE>body { font-family: quokkafont } .quokkastyle { color: red }</STYLE>
<script type="application/ld+json">{"@type": "Article", "keywords": "ldjsonkeyword"}</script>
<Script type="module">import zanzibarmodule from "./app.js";</Script>
<script>{bulk}</script>
</head><body>
<h1>The salt mines of Wieliczka</h1>
<script>var s = "</p><p>fakeparagraph inside a string"; // zanzibarcomment</script>
<p>The Wieliczka Salt Mine near Kraków produced table salt until 1996.</p>
<svg><style>.svgstyleword {{ fill: blue }}</style></svg>
<script src="tracker.js">trackerfallback()</script>
<p>Its chapel of Saint Kinga is carved entirely out of rock salt.</p>
<script>document.write("<p>writtenparagraph</p>")</script>
</body></html>
"""
SCRIPT_WORDS = ["quokkafont", "quokkastyle", "ldjsonkeyword", "zanzibarmodule", "zanzibarbulk", "fakeparagraph",
                "zanzibarcomment", "svgstyleword", "trackerfallback", "writtenparagraph"]


def test_script_and_style_text_is_never_indexed(tmp_path, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    bulk = "function zanzibarbulk(a, b) { return a.map(x => x * b).filter(Boolean); }\n" * 4000  # ~300 KB
    (corpus / "salt.html").write_text(SCRIPTED_HTML.replace("{bulk}", bulk))
    index = tmp_path / "index"
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.added == ["salt.html"] and report.chunks == 1, "300 KB of script made no chunks"
    answerer = heuristic(index, embedder)
    text = answerer.document_text("salt.html")
    assert "Wieliczka Salt Mine" in text and "Saint Kinga" in text
    assert [word for word in SCRIPT_WORDS if word in text] == []
    # BM25 ORs the question's terms: no passage holds any of the script and style words
    assert answerer.ask(" ".join(SCRIPT_WORDS), mode="bm25").passages == []
    assert answerer.ask("Kinga zanzibarbulk", mode="bm25").passages  # while visible words are found
    a = answerer.ask("Until what year did the Wieliczka Salt Mine produce table salt?")
    assert cited(answerer, a) == ["salt.html"] and "until 1996" in a.citations[0].sentence
    assert a.citations[0].section == "The salt mines of Wieliczka"


# --- duplicates -------------------------------------------------------------------------------------------------


def test_duplicate_files_are_each_indexed_and_cited_by_their_own_name(tmp_path, embedder):
    """Decision: the same content under two names is two documents. Each name is what the user sees in
    their folder; an answer found in both cites both; removing one leaves the other answering."""
    corpus = tmp_path / "docs"
    (corpus / "archive").mkdir(parents=True)
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE)
    (corpus / "archive" / "lighthouse (copy).txt").write_text(LIGHTHOUSE)
    (corpus / "bridge.txt").write_text(BRIDGE)
    index = tmp_path / "index"
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.added == ["archive/lighthouse (copy).txt", "bridge.txt", "lighthouse.txt"] and not report.skipped

    question = "Who completed the Skerryvore lighthouse?"
    answerer = heuristic(index, embedder)
    a = answerer.ask(question)
    assert "Alan Stevenson" in a.answer
    assert sorted(cited(answerer, a)) == ["archive/lighthouse (copy).txt", "lighthouse.txt"]
    assert {c.start for c in a.citations} == {LIGHTHOUSE.index("Alan Stevenson")}

    (corpus / "archive" / "lighthouse (copy).txt").unlink()
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.removed == ["archive/lighthouse (copy).txt"] and report.unchanged == ["bridge.txt", "lighthouse.txt"]
    answerer.refresh()
    a = answerer.ask(question)
    assert "Alan Stevenson" in a.answer and cited(answerer, a) == ["lighthouse.txt"]


# --- size limit, deep trees, nothing usable ---------------------------------------------------------------------


def test_the_file_size_limit_is_configurable(tmp_path, embedder, monkeypatch):
    """Decision: files over QA_MAX_FILE_MB (default 20, the chat's upload limit) are skipped before they
    are read: 50 MB of text is ~60,000 chunks, most of an hour of embedding on a laptop. 0 lifts the limit."""
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "small.txt").write_text(LIGHTHOUSE)
    (corpus / "medium.txt").write_text(BRIDGE * 40)  # ~3.4 KB
    index = tmp_path / "index"
    monkeypatch.setenv("QA_MAX_FILE_MB", "0.002")  # ~2 KB
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.added == ["small.txt"]
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("medium.txt", "file is 3 KB, over the 2 KB limit (set QA_MAX_FILE_MB to change it)")]
    monkeypatch.setenv("QA_MAX_FILE_MB", "0")
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.added == ["medium.txt"] and not report.skipped


@pytest.mark.parametrize("value", ["lots", "-1", "nan"])
def test_a_bad_size_limit_is_a_one_line_error(tmp_path, value):
    (tmp_path / "docs").mkdir()
    r = run_qa("index", tmp_path / "docs", "--index", tmp_path / "index", env={"QA_MAX_FILE_MB": value})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (f"qa: error: QA_MAX_FILE_MB must be a number of megabytes (0 for no limit), "
                                f"not '{value}'")


def test_very_deep_trees_and_over_long_paths_never_stop_the_build(tmp_path, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    try:
        (corpus / "lighthouse.txt").write_text(LIGHTHOUSE)
        deep = make_deep_folder(corpus, 1200, "d")  # deeper than Python's recursion limit
        (deep / "deep.txt").write_text(DEEP)
        long_names = [f"{i:02d}-" + "x" * 120 for i in range(40)]  # ~5,000 characters: over PATH_MAX
        make_deep_folder(corpus, 40, "{i:02d}-" + "x" * 120)
        write_deep_file(corpus, long_names, "far.txt", BRIDGE)
        index = tmp_path / "index"
        report = build_index(corpus, index, embedder=embedder, progress=False)
        assert report.added == [deep.relative_to(corpus).as_posix() + "/deep.txt", "lighthouse.txt"]
        assert len(report.skipped) == 1
        assert report.skipped[0].source.startswith("00-xxx") and "File name too long" in report.skipped[0].reason
        answer = heuristic(index, embedder).ask("How deep is the Kola Superdeep Borehole?")
        assert answer.citations[0].source.endswith("d/d/deep.txt")
    finally:
        remove_tree(corpus)


def test_a_folder_of_only_unusable_files_gives_an_empty_index_that_answers_not_found(tmp_path, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    make_png(corpus / "photo.txt")
    make_scanned_pdf(corpus / "scan.pdf", tmp_path, text="")
    index = tmp_path / "index"
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.added == [] and report.documents == 0 and len(report.skipped) == 3
    answer = heuristic(index, embedder).ask("What is in these files?")
    assert answer.answer is None and answer.citations == [] and answer.passages == []

