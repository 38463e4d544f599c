"""The chat as people use it (issue 15), in Debian's Chromium: readable, clickable sources; tentative and
"not found" replies; remove with confirmation and undo; the conversation kept across a reload and
exported; the phone layout; and axe-core finding no serious or critical accessibility problem.

Shares the session's chat server and browser with tests/test_ui_browser.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import JAPAN_Q, OFF_TOPIC_Q, ROOT
from .test_ui_api import ui_server_for
from .test_ui_browser import ARTIFACTS, Page, remove_in_browser, upload_in_browser

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.*")

AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
BEACON_MD = "# Harrowgate Beacon\n\nThe Harrowgate beacon was first lit in 1588.\n"
BEACON_Q = "When was the Harrowgate beacon first lit?"


@pytest.fixture(scope="session")
def ui_server(request, tmp_path_factory, embedder):
    return ui_server_for(request, tmp_path_factory, embedder)


@pytest.fixture
def chat(browser, ui_server):
    p = Page(browser, ui_server.url)
    yield p
    p.close()


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        "(sel) => { const r = document.querySelector(sel).getBoundingClientRect();"
        " return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1; }", selector)


def test_citation_shows_the_title_and_clicking_it_scrolls_the_document_view(chat, ui_server):
    expected = ui_server.service.ask(JAPAN_Q)
    title = expected.citations[0].title
    assert title and title != expected.citations[0].source
    assert chat.page.locator("#qa-cite-choice").count() == 0 or not chat.page.locator("#qa-cite-choice").is_visible()
    chat.ask(JAPAN_Q)
    reply = chat.last_reply()
    place = reply.locator(".qa-cite .qa-place").first
    assert place.inner_text().startswith(" ".join(title.split())[:40])
    assert place.get_attribute("title") == f"{expected.citations[0].source} · characters 1535–1546"

    ref = reply.locator(".qa-main-quote a.qa-ref").first
    ref.focus()  # the quote previews on focus (and hover)
    tip = ref.locator(".qa-tip")
    assert tip.is_visible() and "economic assistance" in tip.inner_text()

    body = chat.page.locator("#qa-docview .qa-doc-body")
    body.evaluate("b => { b.scrollTop = b.scrollHeight; b.querySelector('#qa-hit').classList.remove('qa-flash'); }")
    chat.page.keyboard.press("Enter")  # keyboard: follows the link
    chat.page.wait_for_function("() => !!document.querySelector('#qa-docview mark#qa-hit.qa-flash')")
    hit = chat.page.locator("#qa-docview mark#qa-hit")
    assert hit.inner_text() == "$16 billion"
    box, view = hit.bounding_box(), body.bounding_box()
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"]  # scrolled to it
    assert chat.page.locator("#qa-cite-choice").is_visible()
    assert chat.errors == []


def test_a_reply_below_the_sure_level_is_tentative_with_other_candidates(chat, monkeypatch):
    from ui import replies

    monkeypatch.setattr(replies, "SURE_LEVEL", 1.01)  # the server runs in this process
    chat.ask(JAPAN_Q)
    reply = chat.last_reply()
    assert "qa-tentative" in reply.get_attribute("class") and "qa-sure" not in reply.get_attribute("class")
    assert reply.locator(".qa-tentative-title").inner_text() == "Possible answer — check the quote"
    assert reply.locator(".qa-conf").inner_text() == "Not sure"
    assert reply.locator(".qa-alt").count() >= 1
    assert reply.locator(".qa-answer").evaluate("e => getComputedStyle(e).fontStyle") == "italic"
    reply.locator(".qa-alt a.qa-alt-answer").first.click()  # another candidate opens in the document view
    chat.page.wait_for_function(
        "() => (document.querySelector('#qa-cite-choice input') || {}).value.startsWith('Other answer 1')")
    chat.page.locator("#qa-docview mark#qa-hit").wait_for()


def test_not_found_lists_the_closest_passages_in_full_without_scores(chat):
    chat.ask(OFF_TOPIC_Q)
    reply = chat.last_reply()
    text = reply.inner_text()
    assert "Not found in the documents" in text and "best 0" not in text
    passage = reply.locator(".qa-passage-full").first
    assert passage.is_visible() and not passage.inner_text().endswith("…")
    assert passage.evaluate("e => getComputedStyle(e).color") == reply.evaluate("e => getComputedStyle(e).color")


def test_remove_asks_first_moves_to_trash_marks_old_replies_and_undo_restores(chat, ui_server, tmp_path):
    doc = tmp_path / "beacon.md"
    doc.write_text(BEACON_MD)
    assert "added: beacon.md" in upload_in_browser(chat, doc)
    chat.page.get_by_role("tab", name="Chat").click()
    chat.ask(BEACON_Q)
    assert "1588" in chat.last_reply().locator(".qa-answer").inner_text()

    chat.page.get_by_role("tab", name="Documents").click()
    chat.page.locator("#qa-remove-choice input").click()
    chat.page.get_by_role("option", name="beacon.md", exact=True).click()
    chat.page.locator("#qa-remove").click()
    assert "beacon.md" in chat.page.locator(".qa-confirm-text").inner_text()
    assert (ui_server.docs / "beacon.md").exists()  # nothing happens before the confirmation
    chat.page.locator("#qa-cancel-remove").click()
    chat.page.locator(".qa-confirm-text").wait_for(state="hidden")
    assert (ui_server.docs / "beacon.md").exists()
    status = remove_in_browser(chat, "beacon.md")
    assert "removed: beacon.md" in status and ".trash" in status
    assert not (ui_server.docs / "beacon.md").exists()
    assert (ui_server.docs / ".trash" / "beacon.md").read_text() == BEACON_MD
    chat.page.get_by_role("tab", name="Chat").click()
    assert "beacon.md" in chat.last_reply().locator(".qa-gone").inner_text()
    assert "no longer in the documents" in chat.page.locator("#qa-docview").inner_text()
    chat.screenshot("chat-removed-source.png")

    chat.page.get_by_role("tab", name="Documents").click()
    chat.page.locator("#qa-undo").click()
    chat.page.wait_for_function(
        "() => (document.querySelector('#qa-status') || {}).innerText.includes('restored beacon.md')")
    assert (ui_server.docs / "beacon.md").read_text() == BEACON_MD
    chat.page.get_by_role("tab", name="Chat").click()
    assert chat.last_reply().locator(".qa-gone").count() == 0
    chat.ask(BEACON_Q)
    assert "1588" in chat.last_reply().locator(".qa-answer").inner_text()
    remove_in_browser(chat, "beacon.md")


def test_reload_keeps_the_conversation_export_and_copy(chat, ui_server):
    chat.context.grant_permissions(["clipboard-read", "clipboard-write"])
    chat.ask(JAPAN_Q)
    chat.page.wait_for_timeout(300)  # the browser storage is written after the answer
    chat.page.reload()
    chat.box.wait_for()
    chat.page.wait_for_function("document.querySelectorAll('#qa-chat .qa-reply').length === 1")
    assert chat.last_reply().locator(".qa-answer").inner_text() == "$16 billion"
    chat.page.locator("#qa-docview mark#qa-hit").wait_for()  # its sources still open

    chat.last_reply().locator(".qa-copy").click()
    chat.page.wait_for_function("() => !!window.__qaCopied")
    copied = chat.page.evaluate("window.__qaCopied")
    assert copied.startswith("$16 billion — “Since 2022") and "characters 1535–1546" in copied

    with chat.page.expect_download() as download:
        chat.page.locator("#qa-export").click()
    markdown = Path(download.value.path()).read_text()
    assert f"## {JAPAN_Q}" in markdown and "**$16 billion**" in markdown and "characters 1535–1546" in markdown


def test_phone_layout_input_visible_and_answer_in_view(browser, ui_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(ui_server.url)
        box = page.locator("#qa-question textarea")
        box.wait_for()
        assert in_viewport(page, "#qa-question textarea") and in_viewport(page, "#qa-send")
        assert not page.locator("#qa-cite-choice").is_visible()  # nothing to show yet
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        box.fill(JAPAN_Q)
        box.press("Enter")
        page.wait_for_function("document.querySelectorAll('#qa-chat .qa-reply').length > 0")
        page.wait_for_timeout(400)
        assert in_viewport(page, "#qa-question textarea")
        assert page.evaluate("() => { const r = document.querySelector('#qa-chat .qa-answer').getBoundingClientRect();"
                             " return r.top >= 0 && r.bottom <= window.innerHeight; }")
        page.screenshot(path=str(ARTIFACTS / "chat-mobile.png"))
    finally:
        context.close()


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                           ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')"
                           " + ' ' + (n.any[0] || {}).message).slice(0, 3)}))")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_problem_on_chat_and_documents(browser, ui_server, theme):
    page = Page(browser, ui_server.url + ("?__theme=dark" if theme == "dark" else ""))
    try:
        page.ask(JAPAN_Q)
        page.ask(OFF_TOPIC_Q)
        page.page.wait_for_timeout(300)
        chat = axe_violations(page.page)
        page.screenshot(f"chat-{theme}.png")
        page.page.get_by_role("tab", name="Documents").click()
        page.page.locator("#qa-docs table").wait_for()
        page.page.wait_for_timeout(500)
        documents = axe_violations(page.page)
        (ARTIFACTS / f"axe-{theme}.json").write_text(json.dumps({"chat": chat, "documents": documents}, indent=1))
        assert chat == [] and documents == []
    finally:
        page.close()


# --- without a browser ------------------------------------------------------------------------------------


def test_trash_moves_restores_and_is_never_indexed(tmp_path, embedder):
    from qa import build_index
    from ui.trash import restore_document, trash_document
    from ui.uploads import UploadError

    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "sub" / "beacon.md").write_text(BEACON_MD)
    (docs / "keep.txt").write_text("The keep was built of granite.\n")
    assert trash_document("sub/beacon.md", docs) and not (docs / "sub" / "beacon.md").exists()
    assert (docs / ".trash" / "sub" / "beacon.md").read_text() == BEACON_MD
    assert trash_document("sub/beacon.md", docs) is False  # already gone
    report = build_index(docs, tmp_path / "index", embedder=embedder, progress=False)
    assert report.added == ["keep.txt"]  # nothing under .trash/
    for bad in ("../x.md", ".trash/sub/beacon.md", "/etc/passwd"):
        with pytest.raises(UploadError):
            trash_document(bad, docs)
    restore_document("sub/beacon.md", docs)
    assert (docs / "sub" / "beacon.md").read_text() == BEACON_MD
    with pytest.raises(UploadError, match="not in the trash"):
        restore_document("sub/beacon.md", docs)


def test_conversation_storage_markdown_and_removed_marks(answerer):
    from ui import chat, replies, transcript
    from ui.render import esc_inline

    session = chat.new_session()
    for i, q in enumerate((JAPAN_Q, OFF_TOPIC_Q)):
        a = answerer.ask(q)
        session["messages"] += [{"role": "user", "content": replies.render_question(q)},
                                {"role": "assistant", "content": replies.render_answer(a, 2 * i + 1)}]
        session["answers"][2 * i + 1] = a.to_dict()
    session["current"] = 3
    restored = transcript.from_storage(json.loads(json.dumps(transcript.to_storage(session))))
    assert restored["messages"] == session["messages"] and set(restored["answers"]) == {1, 3}
    assert restored["current"] == 3 and transcript.from_storage({"version": 0}) == chat.new_session()
    markdown = transcript.to_markdown(restored)
    assert f"## {JAPAN_Q}" in markdown and "**$16 billion**" in markdown and "*Not found in the documents.*" in markdown

    source = session["answers"][1]["citations"][0]["source"]
    marked = chat.mark_removed(session, set())
    assert esc_inline(source) in marked["messages"][1]["content"] and 'class="qa-gone"' in marked["messages"][1]["content"]
    assert chat.mark_removed(marked, {source}) == session  # back: the marks go
