"""The browser chat's server: HTML rendering, upload safety, `qa serve`, and the named API end to end.

End-to-end tests talk to a real Gradio server on 127.0.0.1 (launched in this process, sharing the
session's model) with ``gradio_client``; it serves a temporary copy of seeds/ and its own index. The
same server is used by tests/test_ui_browser.py (see ``ui_server``).
"""

from __future__ import annotations

import html
import re
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa import Answerer, build_index

from .conftest import JAPAN_Q, OFF_TOPIC_Q, SEEDS, run_qa, serving
from .fixtures import make_pdf

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.*")

SEED_SOURCE = "000_68c7ef664bad3911.txt"
UPLOAD_LIMIT_MB = 1  # the test server's upload limit (small, so an oversized file is cheap to make)

OBSERVATORY_MD = """# Zephyrine Observatory

The Zephyrine Observatory was founded in 1911 by the astronomer Amelia Korsakova.

## Telescopes

Its largest telescope has a mirror 2.4 metres wide and sits on Mount Ilvara.
"""
OBSERVATORY_Q = "Who founded the Zephyrine Observatory?"


# --- the shared server ---------------------------------------------------------------------------------


@dataclass
class UIServer:
    url: str
    docs: Path
    index: Path
    service: object
    demo: object


_SERVER: dict[str, UIServer] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ui_server_for(request, tmp_path_factory, embedder) -> UIServer:
    """One server per test session, whichever module asks first (closed when the session ends)."""
    if "server" in _SERVER:
        return _SERVER["server"]
    from qa.settings import Settings
    from ui.app import build_app, launch
    from ui.service import Service

    root = tmp_path_factory.mktemp("ui-server")
    docs, index = root / "docs", root / "index"
    shutil.copytree(SEEDS, docs)
    build_index(docs, index, embedder=embedder, progress=False)
    answerer = Answerer(index, embedder=embedder, settings=Settings(max_upload_mb=UPLOAD_LIMIT_MB))
    answerer.warm_up()
    service = Service(answerer, docs)
    demo = build_app(service)
    port = free_port()
    launch(demo, host="127.0.0.1", port=port, max_file_mb=UPLOAD_LIMIT_MB, prevent_thread_lock=True, quiet=True)
    server = UIServer(f"http://127.0.0.1:{port}/", docs, index, service, demo)
    _SERVER["server"] = server

    def close():
        _SERVER.pop("server", None)
        demo.close()

    request.session.config.add_cleanup(close)
    return server


@pytest.fixture(scope="session")
def ui_server(request, tmp_path_factory, embedder) -> UIServer:
    return ui_server_for(request, tmp_path_factory, embedder)


@pytest.fixture(scope="session")
def client(ui_server):
    from gradio_client import Client

    return Client(ui_server.url, verbose=False, analytics_enabled=False)


def upload(client, *paths):
    from gradio_client import handle_file

    return client.predict([handle_file(str(p)) for p in paths], api_name="/upload")


# --- rendering -------------------------------------------------------------------------------------------


def marks(fragment: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r"<mark[^>]*>(.*?)</mark>", fragment)]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escaped_text_has_no_markup_and_reads_back(text):
    from ui.render import esc

    out = esc(text)
    assert "<" not in out.replace("<br>", "") and ">" not in out.replace("<br>", "")
    assert not re.search(r"[*_`$\\\[\]~|#\"']", re.sub(r"&#\d+;", "", out))  # no Markdown / LaTeX / quotes
    expected = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", text.replace("\r\n", "\n").replace("\r", "\n"))
    expected = expected.replace("\u2028", "\n").replace("\u2029", "\n")
    assert html.unescape(out.replace("<br>", "\n")) == expected


def test_answer_html_marks_the_span_in_the_sentence_and_the_passage(answerer):
    from ui.replies import render_answer

    answer = answerer.ask(JAPAN_Q)
    page = render_answer(answer, 1)
    assert "\n\n" not in page  # one HTML block: Markdown leaves it alone
    assert 'class="qa-reply qa-found qa-sure"' in page and ">Confident</span>" in page
    # the main quote, the expanded sentence, the chunk and the two [1] previews each mark exactly the answer
    assert marks(page) == ["$16 billion"] * 5
    assert '<a class="qa-ref qa-jump" href="#qa-jump-1-c0"' in page and ">[1]<span" in page
    assert f"{SEED_SOURCE} · characters 1535–1546" in html.unescape(page)
    c = answer.citations[0]
    assert page.count("<details>") == len(answer.citations)
    assert html.unescape(re.sub(r"<[^>]+>", "", page)).count(c.sentence) >= 2


def test_not_found_html_is_distinct_and_lists_the_closest_passages(answerer):
    from ui.replies import render_answer

    answer = answerer.ask(OFF_TOPIC_Q)
    page = render_answer(answer)
    assert 'class="qa-reply qa-notfound"' in page and "Not found in the documents" in page
    assert "qa-found" not in page and "<mark" not in page
    assert page.count('class="qa-cite qa-closest"') == min(3, len(answer.passages)) > 0
    text = html.unescape(re.sub(r"<[^>]+>", "", page.replace("<br>", " ")))
    assert all(" ".join(p.text.split()) in " ".join(text.split()) for p in answer.passages[:3])  # in full
    assert "best 0" not in text and f"{answer.confidence:.2f}" not in text  # no raw scores


def test_document_view_marks_the_span_in_place_and_windows_long_documents():
    from ui.render import DOC_WINDOW, render_document

    text = "a<b> " * 10 + "THE SPAN" + " tail & more" * 5
    start = text.index("THE SPAN")
    page = render_document("x<y>.txt", text, start, start + 8, hint="[1]")
    assert marks(page) == ["THE SPAN"] and 'id="qa-hit"' in page
    assert "x&#60;y&#62;.txt" in page and "<b>" not in page
    long = "word " * (DOC_WINDOW // 2) + "NEEDLE" + " word" * DOC_WINDOW
    start = long.index("NEEDLE")
    page = render_document("long.txt", long, start, start + 6)
    assert marks(page) == ["NEEDLE"] and "Showing characters" in page


def test_documents_table_escapes_names():
    from types import SimpleNamespace

    from ui.render import render_documents

    rec = SimpleNamespace(source="<img src=x onerror=alert(1)>.txt", kind="txt", chunks=3, size=2048,
                          indexed_at=time.time())
    page = render_documents([rec], "/docs")
    assert "<img" not in page and "&#60;img src=x onerror=alert(1)&#62;.txt" in page
    assert "2.0 KB" in page and "1 document, 3 chunks" in page


# --- upload safety ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, safe", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("/etc/cron.d/evil.md", "evil.md"),
    ("..\\..\\windows\\win.txt", "win.txt"),
    (".hidden.html", "hidden.html"),
    ("report <b>final<b>.pdf", "report _b_final_b_.pdf"),
    ("<img src=x onerror=alert(1)>.html", "_img src_x onerror_alert(1)_.html"),
    ("tab\tand\nnewline.md", "tab and newline.md"),
    ("ÉTÉ notes.MD", "ÉTÉ notes.md"),
    ("x" * 300 + ".txt", "x" * 116 + ".txt"),
])
def test_file_names_are_reduced_to_a_plain_name(raw, safe):
    from ui.uploads import sanitize_filename

    assert sanitize_filename(raw) == safe


@pytest.mark.parametrize("raw", ["", "..", "../", ".txt", "evil.exe", "archive.tar.gz", "noextension", "a.txt/"])
def test_unusable_file_names_are_refused_with_a_reason(raw):
    from ui.uploads import UploadError, sanitize_filename

    with pytest.raises(UploadError) as err:
        sanitize_filename(raw)
    assert str(err.value)


def test_save_upload_stays_in_the_folder_and_never_writes_through_links(tmp_path):
    from ui.uploads import UploadError, save_upload

    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir(), outside.mkdir()
    src = tmp_path / "upload.txt"
    src.write_text("The harbour bell was cast in 1790.\n")
    secret = outside / "secret.txt"
    secret.write_text("do not touch\n")
    (corpus / "link.txt").symlink_to(secret)

    saved = save_upload(src, "../outside/secret.txt", corpus)
    assert saved.name == "secret.txt" and not saved.replaced
    assert (corpus / "secret.txt").read_text() == src.read_text() and secret.read_text() == "do not touch\n"
    with pytest.raises(UploadError, match="link"):
        save_upload(src, "link.txt", corpus)
    assert secret.read_text() == "do not touch\n"

    src.write_text("The harbour bell was recast in 1850.\n")
    assert save_upload(src, "secret.txt", corpus).replaced  # same name inside the folder: an update
    assert "1850" in (corpus / "secret.txt").read_text()

    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    with pytest.raises(UploadError, match="limit"):
        save_upload(big, "big.txt", corpus, max_bytes=1000)
    bad_pdf = tmp_path / "bad.pdf"
    bad_pdf.write_bytes(b"this is not a PDF at all")
    with pytest.raises(UploadError, match="bad.pdf"):
        save_upload(bad_pdf, "bad.pdf", corpus)
    empty = tmp_path / "empty.md"
    empty.write_text("")
    with pytest.raises(UploadError, match="empty"):
        save_upload(empty, "empty.md", corpus)
    assert sorted(p.name for p in corpus.iterdir()) == ["link.txt", "secret.txt"]  # no leftovers


# --- qa serve ------------------------------------------------------------------------------------------------


def test_serve_help():
    result = run_qa("serve", "--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--index", "--docs", "--auth", "--no-auth"):
        assert option in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0"], "--auth"),
    (["--host", "192.168.1.20", "--auth", "nopassword"], "USER:PASSWORD"),
    (["--host", "0.0.0.0", "--auth", "a:b", "--no-auth"], "not both"),
    (["--port", "70000"], "port"),
    (["--docs", "/nonexistent-folder"], "does not exist"),
])
def test_serve_refuses_unsafe_or_bad_arguments_in_one_line(args, message, seed_index):
    result = run_qa("serve", "--index", seed_index, *args, env={"QA_SERVE_AUTH": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:") and message in lines[0]


def test_serve_without_an_index_says_how_to_build_one(tmp_path):
    result = run_qa("serve", "--index", tmp_path / "none")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "qa index" in lines[0]


def test_qa_serve_command_serves_the_ask_endpoint(seed_index, tmp_path):
    """The real command in a subprocess, offline: it starts, answers through the API, and stops."""
    from gradio_client import Client

    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    with serving("--index", seed_index, "--docs", docs) as (url, log):
        assert any("serving 1 document from" in line for line in log), "".join(log)
        result = Client(url, verbose=False, analytics_enabled=False).predict(JAPAN_Q, 5, "hybrid", api_name="/ask")
        assert result["answer"] == "$16 billion"


# --- the named API, end to end -------------------------------------------------------------------------------


def test_api_lists_the_named_endpoints(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/ask", "/documents", "/upload", "/remove", "/rebuild"} <= set(endpoints)


def test_api_ask_returns_the_cli_json_shape(client, ui_server, answerer):
    result = client.predict(JAPAN_Q, 5, "hybrid", api_name="/ask")
    expected = answerer.ask(JAPAN_Q).to_dict()
    assert set(result) == set(expected)
    assert result["answer"] == "$16 billion" and result["confidence"] == expected["confidence"]
    c = result["citations"][0]
    assert set(c) == set(expected["citations"][0])
    assert ui_server.service.document_text(c["source"])[c["start"]:c["end"]] == result["answer"]
    assert result["passages"] and result["mode"] == "hybrid"
    bm25 = client.predict(JAPAN_Q, 3, "bm25", api_name="/ask")
    assert bm25["mode"] == "bm25" and len(bm25["passages"]) <= 3


def test_api_ask_within_named_documents(client, ui_server):
    source = "000_68c7ef664bad3911.txt"
    scoped = client.predict(JAPAN_Q, 5, "hybrid", [source], api_name="/ask")
    assert scoped["scope"] == [source] and {p["source"] for p in scoped["passages"]} == {source}
    assert scoped["answer"] == "$16 billion"
    glob = client.predict(JAPAN_Q, 5, "hybrid", ["000_*.txt"], api_name="/ask")
    assert glob["answer"] == "$16 billion" and glob["scope"] == ["000_*.txt"]
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="no indexed document matches 'nothing.pdf'"):
        client.predict(JAPAN_Q, 5, "hybrid", ["nothing.pdf"], api_name="/ask")


def test_api_off_topic_question_is_not_found(client):
    result = client.predict(OFF_TOPIC_Q, 5, "hybrid", api_name="/ask")
    assert result["answer"] is None and result["citations"] == [] and result["passages"]


def test_api_rejects_an_empty_question(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("   ", 5, "hybrid", api_name="/ask")


def test_api_upload_ask_and_remove_a_document(client, ui_server, tmp_path):
    doc = tmp_path / "observatory.md"
    doc.write_text(OBSERVATORY_MD)
    report = upload(client, doc)
    assert report["ok"] and report["added"] == ["observatory.md"] and not report["refused"]
    assert (ui_server.docs / "observatory.md").read_text() == OBSERVATORY_MD
    names = [d["source"] for d in client.predict(api_name="/documents")]
    assert "observatory.md" in names and SEED_SOURCE in names

    result = client.predict(OBSERVATORY_Q, 5, "hybrid", api_name="/ask")  # no restart needed
    c = result["citations"][0]
    assert result["answer"] == c["text"] and "Amelia Korsakova" in c["sentence"]
    assert c["source"] == "observatory.md" and c["section"] == "Zephyrine Observatory"

    doc.write_text(OBSERVATORY_MD.replace("1911", "1912"))  # the same name again: an update
    report = upload(client, doc)
    assert report["updated"] == ["observatory.md"]

    report = client.predict("observatory.md", api_name="/remove")
    assert report["ok"] and report["removed"] == ["observatory.md"]
    assert not (ui_server.docs / "observatory.md").exists()
    assert (ui_server.docs / ".trash" / "observatory.md").read_text() == OBSERVATORY_MD.replace("1911", "1912")
    assert "observatory.md" not in [d["source"] for d in client.predict(api_name="/documents")]
    result = client.predict(OBSERVATORY_Q, 5, "hybrid", api_name="/ask")
    assert all(p["source"] != "observatory.md" for p in result["passages"])
    assert client.predict(JAPAN_Q, 5, "hybrid", api_name="/ask")["answer"] == "$16 billion"


def test_api_upload_of_a_pdf_is_cited_by_page(client, ui_server, tmp_path):
    pdf = make_pdf(tmp_path / "aral sea.pdf")
    report = upload(client, pdf)
    assert report["added"] == ["aral sea.pdf"]
    try:
        result = client.predict("By 2007 how much of its original size had the Aral Sea declined to?", 5, "hybrid",
                                api_name="/ask")
        assert result["answer"] and "10 percent" in result["citations"][0]["sentence"]
        assert result["citations"][0]["source"] == "aral sea.pdf" and result["citations"][0]["page"] == 2
    finally:
        assert client.predict("aral sea.pdf", api_name="/remove")["removed"] == ["aral sea.pdf"]


def test_api_refuses_bad_uploads_with_a_clear_message(client, ui_server, tmp_path):
    from gradio_client.exceptions import AppError

    before = sorted(p.name for p in ui_server.docs.iterdir())
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    with pytest.raises(AppError, match="Invalid file type"):
        upload(client, exe)
    big = tmp_path / "big.txt"
    big.write_text("many words here " * (UPLOAD_LIMIT_MB * 1024 * 1024 // 16 + 100))
    with pytest.raises(Exception, match="size"):
        upload(client, big)
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"plain text pretending to be a PDF")
    report = upload(client, fake)
    assert not report["ok"] and report["refused"][0]["file"] == "fake.pdf"
    assert "PDF" in report["refused"][0]["reason"]
    assert sorted(p.name for p in ui_server.docs.iterdir()) == before


def test_api_remove_refuses_names_that_are_not_indexed_documents(client, ui_server, tmp_path):
    outside = ui_server.docs.parent / "keep.txt"
    outside.write_text("stay")
    for name in ("../keep.txt", str(outside), "missing.txt"):
        report = client.predict(name, api_name="/remove")
        assert not report["ok"] and "not an indexed document" in report["message"]
    assert outside.exists() and (ui_server.docs / SEED_SOURCE).exists()


def test_api_rebuild_keeps_the_same_documents(client):
    before = sorted(d["source"] for d in client.predict(api_name="/documents"))
    report = client.predict(api_name="/rebuild")
    assert report["ok"] and sorted(report["added"]) == before
    assert client.predict(JAPAN_Q, 5, "hybrid", api_name="/ask")["answer"] == "$16 billion"


def test_questions_asked_during_an_upload_see_a_whole_index(client, ui_server, tmp_path):
    """While a large upload is embedded, other people keep getting complete answers from the old index."""
    from gradio_client import Client, handle_file

    words = ["river", "stone", "meadow", "lantern", "harbor", "orchard", "valley", "bridge", "tower", "garden", "market", "cellar", "quarry", "mill", "chapel", "forge"]
    lines = [f"Ledger entry {i}: the {words[i % 16]} near the {words[(i * 7) % 16]} was surveyed "
             f"by clerk number {i} in the year {1700 + i % 200}." for i in range(700)]
    lines.append("The Grand Ledger of Ostrava Vale holds 48211 pages and was sealed in 1893.")
    big = tmp_path / "ledger.txt"
    big.write_text("\n".join(lines))
    job = client.submit([handle_file(str(big))], api_name="/upload")
    other = Client(ui_server.url, verbose=False, analytics_enabled=False)
    answers, during = [], 0
    while not job.done():
        result = other.predict(JAPAN_Q, 5, "hybrid", api_name="/ask")
        answers.append(result["answer"])
        during += not job.done()
    report = job.result()
    try:
        assert report["ok"] and report["added"] == ["ledger.txt"]
        assert answers and set(answers) == {"$16 billion"}
        assert during >= 1  # asking was not blocked by the indexing
        result = other.predict("How many pages does the Grand Ledger of Ostrava Vale hold?", 5, "hybrid",
                               api_name="/ask")
        assert result["citations"][0]["source"] == "ledger.txt" and "48211" in result["answer"]
    finally:
        assert other.predict("ledger.txt", api_name="/remove")["removed"] == ["ledger.txt"]


def test_index_swaps_are_atomic_for_readers(ui_server):
    """Service level: asks racing with add/remove cycles never fail and never see a partial document."""
    service = ui_server.service
    doc = ui_server.docs.parent / "race.md"
    doc.write_text(OBSERVATORY_MD.replace("Zephyrine", "Quorvale"))
    errors: list[str] = []
    stop = threading.Event()

    def asker():
        while not stop.is_set():
            try:
                a = service.ask("Who founded the Quorvale Observatory?")
                if a.found and a.citations[0].source == "race.md":
                    assert "Amelia Korsakova" in a.citations[0].sentence
                assert service.ask(JAPAN_Q).answer == "$16 billion"
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                errors.append(repr(exc))

    threads = [threading.Thread(target=asker) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(2):
            assert service.add_files([(str(doc), "race.md")])["added"] == ["race.md"]
            assert service.remove("race.md")["removed"] == ["race.md"]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []


def test_an_upload_report_names_pages_left_out_of_an_indexed_file_and_warns():
    from ui.documents_tab import status_from_report

    report = {"ok": True, "added": ["half-blank.pdf"], "skipped_pages": [
        {"file": "half-blank.pdf", "reason": "page 2: no text found by OCR"}], "message": "indexed in 1.0 s"}
    html = status_from_report(report)
    assert "half-blank.pdf, page 2: no text found by OCR (the rest of the file was indexed)" in html
    assert html != status_from_report(dict(report, skipped_pages=[])), "the status must change kind (a warning)"
