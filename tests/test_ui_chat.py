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
from .test_ui_browser import (
    ARTIFACTS,
    TIMEOUT_MS,
    Page,
    remove_in_browser,
    upload_in_browser,
)

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
    assert not chat.page.locator("#qa-docview-col .qa-sheet-close").is_visible()  # a sheet on phones only
    assert chat.page.locator("#qa-docview-col.qa-sheet-open").count() == 0
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


def test_asking_waits_for_the_conversation_kept_in_the_browser(browser, ui_server, monkeypatch):
    """A question asked before the page load has restored the stored conversation was wiped from the chat
    when that arrived (browser tests lost their first reply that way, now and then): asking is enabled only
    once it has. The restore is slowed here so that a question could come first; without the guard the
    reply is gone 2.5 s later."""
    import time

    from ui import chat_tab

    restore = chat_tab.restore

    def slow_restore(*args):
        time.sleep(2.0)
        return restore(*args)

    monkeypatch.setattr(chat_tab, "restore", slow_restore)  # the server runs in this process
    p = Page(browser, ui_server.url)
    try:
        assert p.box.is_disabled() and p.page.locator("#qa-send").is_disabled()
        assert all(b.is_disabled() for b in p.page.locator(".qa-example button, button.qa-example").all())
        p.ask(JAPAN_Q)  # fill waits until the box is enabled, after the restore
        p.page.wait_for_timeout(2500)  # longer than the restore's delay: it would have wiped the reply by now
        assert p.replies().count() == 1 and p.last_reply().locator(".qa-answer").inner_text() == "$16 billion"
        assert p.page.locator("#qa-send").is_enabled() and p.errors == []
    finally:
        p.close()


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


@pytest.fixture
def phone(browser, ui_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(ui_server.url)
    page.locator("#qa-question textarea").wait_for()
    yield page
    context.close()
    assert errors == []


def ask_on(page, question: str) -> None:
    n = page.locator("#qa-chat .qa-reply").count()
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-question textarea").press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#qa-chat .qa-reply').length > {n}")


# What the open sheet really shows, measured in the page: the <mark> inside the viewport and inside the
# scrolled document text, and painted on top (what is under its centre is the mark's own text).
SHEET = """() => {
  const col = document.querySelector('#qa-docview-col'), body = col.querySelector('.qa-doc-body');
  const hit = body.querySelector('#qa-hit'), close = col.querySelector('.qa-sheet-close');
  const h = hit.getBoundingClientRect(), b = body.getBoundingClientRect(), c = col.getBoundingClientRect();
  const k = close.getBoundingClientRect();
  const x = h.left + h.width / 2, y = h.top + h.height / 2, under = document.elementFromPoint(x, y);
  const caret = document.caretRangeFromPoint(x, y);
  const closeUnder = document.elementFromPoint(k.left + k.width / 2, k.top + k.height / 2);
  return {
    open: col.classList.contains('qa-sheet-open'), position: getComputedStyle(col).position,
    role: col.getAttribute('role'), modal: col.getAttribute('aria-modal'), mark: hit.innerText,
    inViewport: h.top >= 0 && h.left >= 0 && h.bottom <= innerHeight && h.right <= innerWidth && h.height > 0,
    inBody: h.top >= b.top && h.bottom <= b.bottom && h.left >= b.left && h.right <= b.right,
    onTop: !!under && (under === hit || hit.contains(under)),
    textOnTop: !!caret && hit.contains(caret.startContainer),
    closeOnTop: !!closeUnder && (closeUnder === close || close.contains(closeUnder)),
    overChat: c.left <= 0 && c.right >= innerWidth - 1 && c.bottom >= innerHeight - 1 && c.top < innerHeight / 4,
    focusInside: col.contains(document.activeElement), focusOnClose: document.activeElement === close,
  };
}"""


def painted_mark(page) -> tuple[int, int]:
    """(highlight pixels, dark text pixels) in a screenshot of the <mark>: the text is really drawn."""
    import io

    from PIL import Image

    box = page.locator("#qa-docview mark#qa-hit").bounding_box()
    image = Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")
    pixels = [image.getpixel((x, y)) for x in range(image.width) for y in range(image.height)]
    yellow = sum(1 for r, g, b in pixels if r > 200 and g > 180 and b < 140)
    dark = sum(1 for r, g, b in pixels if r + g + b < 250)
    return yellow, dark


def test_phone_citation_opens_the_document_view_as_a_sheet_over_the_chat(phone):
    ask_on(phone, JAPAN_Q)
    ref = phone.locator("#qa-chat .qa-main-quote a.qa-ref").first
    href = ref.get_attribute("href")
    assert not phone.locator(".qa-sheet-close").is_visible()  # shut: the document view sits under the chat
    ref.click()
    phone.wait_for_function("() => !!document.querySelector('#qa-docview-col.qa-sheet-open')"
                            " && !!document.querySelector('#qa-docview mark#qa-hit.qa-flash')")
    sheet = phone.evaluate(SHEET)
    assert sheet["position"] == "fixed" and sheet["overChat"], sheet
    assert sheet["role"] == "dialog" and sheet["modal"] == "true"
    assert sheet["mark"] == "$16 billion"
    assert sheet["inViewport"] and sheet["inBody"] and sheet["onTop"] and sheet["textOnTop"], sheet
    assert sheet["closeOnTop"] and sheet["focusOnClose"], sheet
    yellow, dark = painted_mark(phone)
    assert yellow > 100 and dark > 20, (yellow, dark)  # the highlight and its text, drawn
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "chat-mobile-sheet.png"))
    assert axe_violations(phone) == []  # the open sheet too

    for _ in range(5):  # a modal dialog: Tab goes round inside it
        phone.keyboard.press("Tab")
        assert phone.evaluate(SHEET)["focusInside"]
    phone.keyboard.press("Escape")  # Escape closes it, and focus goes back to the [1] followed
    phone.wait_for_function("() => !document.querySelector('#qa-docview-col.qa-sheet-open')")
    assert phone.evaluate("() => document.activeElement.getAttribute('href')") == href
    assert phone.evaluate("() => !!document.activeElement.closest('.qa-main-quote')")
    assert not phone.locator(".qa-sheet-close").is_visible()

    phone.keyboard.press("Enter")  # keyboard: the focused [1] opens it again
    phone.wait_for_function("() => !!document.querySelector('#qa-docview-col.qa-sheet-open')")
    phone.locator(".qa-sheet-close").click()
    phone.wait_for_function("() => !document.querySelector('#qa-docview-col.qa-sheet-open')")

    answer = phone.locator("#qa-chat a.qa-answer").last  # the answer is a link too
    answer.click()
    phone.wait_for_function("() => !!document.querySelector('#qa-docview-col.qa-sheet-open')")
    sheet = phone.evaluate(SHEET)
    assert sheet["inViewport"] and sheet["onTop"] and sheet["textOnTop"], sheet
    phone.locator(".qa-sheet-close").click()  # Close: back to the chat, the input in view
    phone.wait_for_function("() => !document.querySelector('#qa-docview-col.qa-sheet-open')")
    assert phone.evaluate("() => document.activeElement.classList.contains('qa-answer')")
    assert in_viewport(phone, "#qa-question textarea")


# Every control over the messages (Gradio's "scroll down" arrow, its per-message buttons and trash icon,
# each reply's "Copy with citation") against every piece of message text on screen: the rectangles where
# they cross, text clipped to the scrolled area.
COVERED_TEXT = """() => {
  const wrap = document.querySelector('#qa-chat .bubble-wrap'), view = wrap.getBoundingClientRect();
  const controls = [...document.querySelectorAll('#qa-chat .scroll-down-button-container button,'
    + ' #qa-chat .top-panel button, #qa-chat .message-buttons button, #qa-chat .qa-copy')]
    .filter((e) => e.getClientRects().length > 0);
  const texts = [], walker = document.createTreeWalker(wrap, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    // not painted: blank, hidden, or inside a closed <details> (checkVisibility: skipped content)
    if (!n.textContent.trim() || !n.parentElement.checkVisibility({visibilityProperty: true})) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    for (const r of range.getClientRects()) {
      const top = Math.max(r.top, view.top), bottom = Math.min(r.bottom, view.bottom);
      if (bottom - top > 1 && r.width > 1) texts.push({node: n, left: r.left, right: r.right, top, bottom});
    }
  }
  const covered = [];
  for (const c of controls) {
    const b = c.getBoundingClientRect();
    for (const t of texts) {
      if (c.contains(t.node)) continue;
      if (t.left < b.right - 1 && b.left < t.right - 1 && t.top < b.bottom - 1 && b.top < t.bottom - 1) {
        covered.push((c.getAttribute('aria-label') || c.className) + ' over "' + t.node.textContent.trim().slice(0, 30) + '"');
      }
    }
  }
  return {covered, texts: texts.length, controls: controls.length,
          arrow: !!document.querySelector('#qa-chat .scroll-down-button-container button')};
}"""


def test_scroll_down_arrow_and_reply_controls_cover_no_message_text(browser, ui_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(ui_server.url)
        page.locator("#qa-question textarea").wait_for()
        for question in (JAPAN_Q, "Who is the Japanese Foreign Minister?", OFF_TOPIC_Q):
            ask_on(page, question)
        for width, height in ((1440, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)
            wrap = page.locator("#qa-chat .bubble-wrap")
            span = wrap.evaluate("w => w.scrollHeight - w.clientHeight")
            assert span > 300, "the chat should scroll"
            arrows = 0
            for top in [0, span // 4, span // 2, 3 * span // 4, span]:
                wrap.evaluate("(w, top) => { w.scrollTop = top; w.dispatchEvent(new Event('scroll')); }", top)
                page.wait_for_timeout(150)
                found = page.evaluate(COVERED_TEXT)
                assert found["texts"] > 0 and found["covered"] == [], (width, top, found)
                arrows += found["arrow"]
            assert arrows >= 3, "Gradio's scroll-down arrow shows while scrolled up"  # so it was checked
            wrap.evaluate("w => { w.scrollTop = w.scrollHeight / 3; w.dispatchEvent(new Event('scroll')); }")
            page.locator("#qa-chat .scroll-down-button-container button").wait_for()
            page.screenshot(path=str(ARTIFACTS / f"chat-scrolled-{width}.png"))
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


def test_the_sheet_and_the_stacked_layout_share_one_breakpoint():
    from ui.client import CLIENT_JS, NARROW
    from ui.style import CSS

    assert f"@media {NARROW}" in CSS and f"'{NARROW}'" in CLIENT_JS and "__NARROW__" not in CLIENT_JS


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


def test_an_unreadable_stored_conversation_still_opens_the_chat(ui_server):
    """Asking is enabled by the restore (above), so a stored conversation it cannot read (another version's
    answers) must give a new one with asking enabled, not an error that leaves the box disabled."""
    from types import SimpleNamespace

    from ui import chat, chat_tab

    tab = SimpleNamespace(ask_controls=["send", "example"])
    for stored in (None, {"version": 1, "messages": [], "answers": {"1": {"not": "an answer"}}, "current": 1}):
        out = chat_tab.restore(ui_server.service, tab, stored)
        assert len(out) == 5 + 1 + 2 and out[1] == chat.new_session()
        assert all(update.get("interactive") is True for update in out[5:])
