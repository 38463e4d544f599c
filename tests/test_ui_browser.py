"""The browser chat in a real browser: Debian's Chromium, headless, driven by Playwright.

Uses the server of tests/test_ui_api.py (a temporary copy of seeds/). Screenshots go to tests/artifacts/
(git-ignored). The browser is never downloaded: it is /usr/bin/chromium (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from .conftest import JAPAN_Q, OFF_TOPIC_Q, ROOT
from .fixtures import HTML as GLACIERS_HTML
from .test_ui_api import SEED_SOURCE, ui_server_for

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.*")

ARTIFACTS = ROOT / "tests" / "artifacts"
TIMEOUT_MS = 60_000

# Text that *is* markup once extracted: the HTML entities become literal <script> / <img onerror> in the
# document's text, and so in answers, citations, headings and the document view. Real tags too (dropped
# by the HTML reader). Any of them running would set window.__qa_pwned or open a dialog.
MALICIOUS_HTML = """<!doctype html><html><head><title>Harbour</title>
<script>window.__qa_pwned = 'head'; alert('head script')</script></head>
<body><h1>Harbour &lt;script&gt;window.__qa_pwned=1;alert(1)&lt;/script&gt; notes</h1>
<p>The Quillfeather Lighthouse was built in 1847 by the engineer Tobias Wrenfield
&lt;img src=x onerror="window.__qa_pwned=2;alert(2)"&gt; on the northern cliffs.</p>
<p>&lt;script&gt;window.__qa_pwned=3;alert(3)&lt;/script&gt; The lighthouse keeper was Mara Ellison.</p>
<img src=x onerror="window.__qa_pwned=4;alert(4)">
<script>window.__qa_pwned = 'body'; alert('body script')</script>
</body></html>
"""
LIGHTHOUSE_Q = "Who built the Quillfeather Lighthouse?"
XSS_QUESTION = LIGHTHOUSE_Q + ' <img src=x onerror="window.__qa_pwned=5;alert(5)"><script>alert(6)</script>'


@pytest.fixture(scope="session")
def ui_server(request, tmp_path_factory, embedder):
    return ui_server_for(request, tmp_path_factory, embedder)


class Page:
    """One browser session (its own context, so its own Gradio session) on the chat."""

    def __init__(self, browser, url):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(url)
        self.box.wait_for()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    @property
    def box(self):
        return self.page.locator("#qa-question textarea")

    def replies(self):
        return self.page.locator("#qa-chat .qa-reply")

    def ask(self, question: str) -> float:
        """Type the question, press Enter, wait for the rendered reply; returns the seconds it took."""
        n = self.replies().count()
        self.box.fill(question)
        start = time.perf_counter()
        self.box.press("Enter")
        self.page.wait_for_function(f"document.querySelectorAll('#qa-chat .qa-reply').length > {n}")
        return time.perf_counter() - start

    def last_reply(self):
        return self.replies().last

    def pwned(self):
        return self.page.evaluate("window.__qa_pwned === undefined ? null : String(window.__qa_pwned)")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self):
        self.context.close()


@pytest.fixture
def page(browser, ui_server):
    p = Page(browser, ui_server.url)
    yield p
    p.close()


def test_seed_question_shows_answer_highlight_and_citation(page, ui_server):
    expected = ui_server.service.ask(JAPAN_Q)
    seconds = page.ask(JAPAN_Q)
    reply = page.last_reply()
    assert reply.locator(".qa-answer").inner_text() == expected.answer == "$16 billion"
    assert reply.locator(".qa-conf").inner_text() == "Confident" and expected.confidence >= 0.8
    quote_mark = reply.locator(".qa-main-quote > mark")
    assert quote_mark.is_visible() and quote_mark.inner_text() == "$16 billion"
    assert "Tokyo has increased support for Ukraine" in reply.locator(".qa-main-quote").inner_text()
    summary = reply.locator(".qa-cite summary").first
    assert summary.is_visible() and reply.locator(".qa-cite .qa-ref").first.inner_text().startswith("[1]")
    tip = reply.locator(".qa-cite .qa-place").first.get_attribute("title")
    assert tip == f"{SEED_SOURCE} · characters 1535–1546"

    doc_mark = page.page.locator("#qa-docview mark#qa-hit")  # the whole document, span in place
    doc_mark.wait_for()
    path = page.screenshot("chat-seed-question.png")
    assert path.stat().st_size > 10_000

    summary.click()  # expand the citation: sentence and chunk, span marked in both
    cite = reply.locator(".qa-cite").first
    cite.locator(".qa-passage mark").wait_for()
    assert cite.locator(".qa-quote mark").inner_text() == "$16 billion"
    assert cite.locator(".qa-passage mark").inner_text() == "$16 billion"
    assert "economic assistance" in cite.locator(".qa-passage .qa-sent").inner_text()

    assert doc_mark.inner_text() == "$16 billion" and doc_mark.is_visible()
    assert SEED_SOURCE in page.page.locator("#qa-docview .qa-doc-head").inner_text()
    assert "[1]" in page.page.locator("#qa-cite-choice input").input_value()
    page.screenshot("chat-seed-question-expanded.png")
    (ARTIFACTS / "enter-to-answer.json").write_text(json.dumps({"question": JAPAN_Q, "seconds": round(seconds, 3)}))
    print(f"\nEnter -> rendered answer: {seconds * 1000:.0f} ms")
    assert page.dialogs == [] and page.errors == []


def test_not_found_reply_looks_different_and_lists_closest_passages(page):
    page.ask(OFF_TOPIC_Q)
    reply = page.last_reply()
    assert "qa-notfound" in reply.get_attribute("class")
    assert reply.locator(".qa-nf-title").inner_text() == "Not found in the documents"
    assert reply.locator(".qa-answer").count() == 0
    assert 1 <= reply.locator(".qa-cite").count() <= 3
    assert SEED_SOURCE in reply.locator(".qa-cite .qa-place").first.get_attribute("title")
    page.page.locator("#qa-docview .qa-sent#qa-hit").wait_for()  # closest passage shown in place


def test_example_question_is_asked_on_click(page, ui_server):
    question = "Who is the Japanese Foreign Minister?"
    page.page.get_by_role("button", name=question).click()
    page.page.wait_for_function("document.querySelectorAll('#qa-chat .qa-reply').length > 0")
    reply = page.last_reply()
    assert reply.locator(".qa-answer").inner_text() == ui_server.service.ask(question).answer
    assert "Motegi Toshimitsu" in reply.locator(".qa-main-quote").inner_text()


def test_settings_change_retrieval(page):
    page.page.get_by_text("Settings").click()
    page.page.get_by_label("bm25").check()
    page.ask(JAPAN_Q)
    assert page.last_reply().locator(".qa-answer").inner_text() == "$16 billion"


def test_clicking_an_earlier_reply_shows_its_sources(page, ui_server):
    minister_q = "Who is the Japanese Foreign Minister?"
    page.ask(JAPAN_Q)
    page.ask(minister_q)
    hit = page.page.locator("#qa-docview mark#qa-hit")
    assert hit.inner_text() == ui_server.service.ask(minister_q).answer
    page.replies().first.locator(".qa-answer").click()
    page.page.wait_for_function(
        "() => (document.querySelector('#qa-docview mark#qa-hit') || {}).innerText === '$16 billion'")
    assert hit.is_visible()


def test_each_browser_session_has_its_own_history(browser, ui_server):
    first, second = Page(browser, ui_server.url), Page(browser, ui_server.url)
    try:
        first.ask(JAPAN_Q)
        assert first.replies().count() == 1
        second.page.wait_for_timeout(300)
        assert second.replies().count() == 0
        second.ask(OFF_TOPIC_Q)
        assert second.replies().count() == 1 and first.replies().count() == 1
        assert "Not found" in second.last_reply().inner_text() and "$16 billion" in first.last_reply().inner_text()
    finally:
        first.close()
        second.close()


def upload_in_browser(page, *paths: Path) -> str:
    page.page.get_by_role("tab", name="Documents").click()
    page.page.locator("#qa-upload input[type=file]").set_input_files([str(p) for p in paths])
    status = page.page.locator("#qa-status .qa-status")
    status.wait_for()
    return status.inner_text()


def remove_in_browser(page, name: str) -> str:
    page.page.get_by_role("tab", name="Documents").click()
    page.page.locator("#qa-docs").get_by_text(name, exact=True).wait_for()
    choice = page.page.locator("#qa-remove-choice input")
    choice.click()
    page.page.get_by_role("option", name=name, exact=True).click()
    before = page.page.locator("#qa-status").inner_text()
    page.page.locator("#qa-remove").click()
    page.page.locator(".qa-confirm-text").get_by_text(name).wait_for()  # asks first, naming the file
    page.page.locator("#qa-confirm-remove").click()
    page.page.wait_for_function(
        "(before) => { const s = document.querySelector('#qa-status .qa-status');"
        " return s && s.innerText !== before && s.innerText.includes('removed'); }", arg=before)
    return page.page.locator("#qa-status").inner_text()


def test_malicious_html_is_shown_as_text_and_never_runs(page, ui_server, tmp_path):
    evil = tmp_path / "harbour <img src=x onerror=alert(7)>.html"
    evil.write_text(MALICIOUS_HTML)
    glaciers = tmp_path / "glaciers-xss.html"
    glaciers.write_text(GLACIERS_HTML)
    before = {p.name for p in ui_server.docs.iterdir()}
    status = upload_in_browser(page, evil, glaciers)
    new = {p.name for p in ui_server.docs.iterdir()} - before
    assert "glaciers-xss.html" in new and len(new) == 2, new
    name = (new - {"glaciers-xss.html"}).pop()  # the file name, sanitized (by Gradio, then by us)
    assert name.startswith("harbour") and name.endswith(".html") and not set(name) & set("<>/\\\"'")
    assert "added" in status and name in status and "glaciers-xss.html" in status, status
    table = page.page.locator("#qa-docs")
    assert name in table.inner_text() and "glaciers-xss.html" in table.inner_text()

    try:
        page.page.get_by_role("tab", name="Chat").click()
        page.ask(XSS_QUESTION)  # the question itself carries markup too
        reply = page.last_reply()
        assert reply.locator(".qa-answer").inner_text() == ui_server.service.ask(XSS_QUESTION).answer
        assert "Tobias Wrenfield" in reply.locator(".qa-main-quote").inner_text()
        reply.locator(".qa-cite summary").first.click()
        reply.locator(".qa-passage mark").wait_for()
        chat_text = page.page.locator("#qa-chat").inner_text()
        assert '<img src=x onerror="window.__qa_pwned=2;alert(2)">' in chat_text  # escaped, visible as text
        assert "<script>window.__qa_pwned=1;alert(1)</script>" in chat_text  # in the section heading
        assert '<img src=x onerror="window.__qa_pwned=5;alert(5)"><script>alert(6)</script>' in chat_text
        assert name in chat_text
        doc_text = page.page.locator("#qa-docview").inner_text()
        assert "<script>window.__qa_pwned=3;alert(3)</script>" in doc_text and name in doc_text

        page.ask("Where is the Perito Moreno Glacier located?")
        reply = page.last_reply()
        assert "glaciers-xss.html" in reply.locator(".qa-place").first.get_attribute("title")
        page.page.wait_for_timeout(500)  # give anything that would run a chance to
        page.screenshot("chat-malicious-html.png")

        assert page.dialogs == [], page.dialogs
        assert page.pwned() is None
        assert page.page.title() != "pwned"
        injected = page.page.evaluate(
            "() => [...document.querySelectorAll('img[onerror], script')]"
            ".filter(e => (e.outerHTML || '').includes('__qa_pwned') || (e.getAttribute('onerror') || '') !== '')"
            ".length")
        assert injected == 0
    finally:
        for source in (name, "glaciers-xss.html"):
            if (ui_server.docs / source).exists():
                assert "removed" in remove_in_browser(page, source)
    assert not (ui_server.docs / name).exists() and page.dialogs == [] and page.pwned() is None


def test_upload_then_ask_without_restart(page, ui_server, tmp_path):
    doc = tmp_path / "beacon.md"
    doc.write_text("# Beacon\n\nThe Harrowgate beacon was first lit in 1588.\n")
    status = upload_in_browser(page, doc)
    assert "added: beacon.md" in status and "documents" in status
    try:
        page.page.get_by_role("tab", name="Chat").click()
        page.ask("When was the Harrowgate beacon first lit?")
        reply = page.last_reply()
        assert "1588" in reply.locator(".qa-answer").inner_text()
        assert reply.locator(".qa-cite .qa-place").first.get_attribute("title").startswith("beacon.md · ")
    finally:
        remove_in_browser(page, "beacon.md")
    assert not (ui_server.docs / "beacon.md").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_refused_upload_says_why_instead_of_a_bare_error(page, ui_server, tmp_path):
    """Gradio refuses a file of another type, or one over the size limit, in the browser, before our server
    sees it: its upload area then showed only a red "Error". Now the reason is written under it."""
    from .test_ui_api import UPLOAD_LIMIT_MB

    tool = tmp_path / "tool.exe"
    tool.write_bytes(b"MZ\x90\x00 not a document")
    big = tmp_path / "big.txt"
    big.write_text("The Harrowgate beacon was first lit in 1588.\n" * (UPLOAD_LIMIT_MB * 1048576 // 40))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    before = sorted(p.name for p in ui_server.docs.iterdir())
    page.page.get_by_role("tab", name="Documents").click()
    upload = page.page.locator("#qa-upload")
    note = page.page.locator("#qa-upload-note")
    assert not note.is_visible()

    def refuse(path) -> str:
        page.page.locator("#qa-upload input[type=file]").set_input_files([str(path)])
        page.page.wait_for_function(
            "(name) => { const n = document.querySelector('#qa-upload-note');"
            " return n && !n.hidden && n.innerText.includes(name); }", arg=path.name)
        page.page.wait_for_timeout(300)  # Gradio's own error state has come by now
        assert "Error" not in upload.inner_text() and upload.get_by_text("Drop File Here").is_visible()
        return note.inner_text()

    # a reason Gradio gives that client.py does not foresee: its own words (the size check switched off)
    note.evaluate("n => { n.dataset.maxBytes = '0'; }")
    text = refuse(big)
    assert text.startswith("Not uploaded: ") and "exceed the maximum allowed size" in text, text
    note.evaluate(f"n => {{ n.dataset.maxBytes = '{UPLOAD_LIMIT_MB * 1048576}'; }}")

    text = refuse(tool)
    assert text.startswith("Not uploaded: tool.exe (.exe files are not supported)") and ".pdf" in text, text
    text = refuse(big)
    assert text.startswith(f"Nothing was uploaded: big.txt ({big.stat().st_size / 1048576:.1f} MB, over the "
                           f"{UPLOAD_LIMIT_MB:.1f} MB limit)"), text
    page.screenshot("upload-refused.png")

    # a supported file the server itself refuses: the note goes, the status box says why
    page.page.locator("#qa-upload input[type=file]").set_input_files([str(broken)])
    status = page.page.locator("#qa-status .qa-status")
    status.wait_for()
    assert "refused: broken.pdf" in status.inner_text() and not note.is_visible()
    assert sorted(p.name for p in ui_server.docs.iterdir()) == before
    assert page.errors == []
