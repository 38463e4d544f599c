"""The browser chat: a Gradio 6 app over one ``Answerer`` (the library entry point, no second pipeline).

Tabs: **Chat** (multi-turn chat, cited answers, a document view with the span in place, settings,
example questions) and **Documents** (what is indexed; upload, remove, rebuild).

Named API endpoints for ``gradio_client``: ``/ask`` (the ``qa ask --json`` object), ``/documents``,
``/upload`` (files), ``/remove`` (a document name), ``/rebuild``.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import logging  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from qa.config import SUPPORTED_SUFFIXES  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.settings import MODES  # noqa: E402

from . import render  # noqa: E402
from .service import Service  # noqa: E402
from .style import CSS  # noqa: E402

log = logging.getLogger("qa.serve")

TITLE = "Ask your documents"
SEED_SOURCE = "000_68c7ef664bad3911.txt"  # the article in seeds/
SEED_EXAMPLES = [
    "How much economic assistance has Japan provided to Ukraine since 2022?",
    "Who is the Japanese Foreign Minister?",
    "When did Japan sign a security arrangement with Kyiv?",
    "What share of GDP will Japan spend on defense?",
]
ASK_CONCURRENCY = 4
KEEP_SOURCES = 50  # replies per session whose sources stay clickable (older ones keep their text)


SCROLL_TO_HIT = """
() => {
  const body = document.querySelector('#qa-docview .qa-doc-body');
  const hit = body && body.querySelector('#qa-hit');
  if (body && hit) { body.scrollTop = Math.max(0, hit.offsetTop - body.offsetTop - body.clientHeight / 3); }
}
"""


def examples_for(service: Service) -> list[str]:
    """The seed questions, when the index holds the seed article."""
    try:
        sources = {d.source.rsplit("/", 1)[-1] for d in service.documents()}
    except Exception:  # noqa: BLE001 - a page without examples is better than no page
        return []
    return list(SEED_EXAMPLES) if SEED_SOURCE in sources else []


def new_session() -> dict:
    return {"messages": [], "answers": {}, "current": None, "pending": None}


# --- per-session chat logic (pure functions of the session dict, easy to test) ---------------------


def start_turn(question: str, session: dict):
    """Show the question at once and clear the box; the answer follows in ``finish_turn``."""
    session = dict(session or new_session())
    question = (question or "").strip()
    if not question:
        return gr.update(), session["messages"], session
    session["messages"] = session["messages"] + [{"role": "user", "content": render.render_question(question)}]
    session["pending"] = question
    return "", session["messages"], session


def _doc_view(service: Service, answer: dict, i: int) -> str:
    items = answer.get("citations") or answer.get("passages", [])[: render.NOT_FOUND_PASSAGES]
    if not items:
        return render.render_document_placeholder()
    i = max(0, min(int(i), len(items) - 1))
    c = items[i]
    sentence = (c["sentence_start"], c["sentence_end"]) if "sentence_start" in c else None
    hint = f"[{i + 1}] chars {c['start']}–{c['end']}"
    if c.get("page") is not None:
        hint += f" · page {c['page']}"
    return render.render_document(c["source"], service.document_text(c["source"]), c["start"], c["end"],
                                  hint=hint, sentence=sentence, passage=sentence is None)


def finish_turn(service: Service, session: dict, k, mode, scope=None):
    session = dict(session or new_session())
    question = session.get("pending")
    if not question:
        return session["messages"], session, gr.update(), gr.update()
    session["pending"] = None
    try:
        answer = service.ask(question, k=int(k), mode=mode if mode in MODES else None, scope=scope or None)
        reply = render.render_answer(answer)
        data = answer.to_dict()
    except QAError as exc:
        reply, data = render.render_error(str(exc)), None
    except Exception:  # noqa: BLE001 - show something rather than a broken chat
        log.exception("answering %r failed", question)
        reply, data = render.render_error("Something went wrong while answering; see the server log."), None
    messages = session["messages"] + [{"role": "assistant", "content": reply}]
    answers = {i: a for i, a in session["answers"].items() if i >= len(messages) - 2 * KEEP_SOURCES}
    if data is not None:
        data.pop("timings_ms", None)
        answers[len(messages) - 1] = data
        session["current"] = len(messages) - 1
    session["messages"], session["answers"] = messages, answers
    if data is None:
        return messages, session, gr.update(), gr.update()
    return messages, session, *_sources_outputs(service, data)


def _sources_outputs(service: Service, data: dict):
    choices = render.citation_choices(data)
    value = choices[0][1] if choices else None
    return gr.update(choices=choices, value=value), _doc_view(service, data, 0)


def select_reply(service: Service, session: dict, evt: gr.SelectData):
    """A click on a reply shows its sources in the document view."""
    index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    answers = (session or {}).get("answers", {})
    for i in (index, (index or 0) + 1):  # a click on a question shows its answer
        if isinstance(i, int) and i in answers:
            session = dict(session, current=i)
            return session, *_sources_outputs(service, answers[i])
    return session, gr.update(), gr.update()


def show_citation(service: Service, session: dict, choice):
    answers = (session or {}).get("answers", {})
    current = (session or {}).get("current")
    if current not in answers or choice is None:
        return gr.update()
    return _doc_view(service, answers[current], int(choice))


def clear_chat():
    return [], new_session(), gr.update(choices=[], value=None), render.render_document_placeholder()


# --- the app -----------------------------------------------------------------------------------------


def _file_path(f) -> tuple[str, str]:
    """(path on the server, original name) of an uploaded file from gr.File."""
    if isinstance(f, dict):
        path = f.get("path") or f.get("name")
        return path, f.get("orig_name") or Path(path).name
    path = getattr(f, "path", None) or getattr(f, "name", None) or str(f)
    return path, getattr(f, "orig_name", None) or Path(path).name


def status_from_report(report: dict) -> str:
    if not report:
        return ""
    lines, ok = [], report.get("ok", False)
    for key, verb in (("added", "added"), ("updated", "updated"), ("removed", "removed")):
        if report.get(key):
            lines.append(f"{verb}: {', '.join(report[key])}")
    if report.get("unchanged"):
        lines.append(f"already indexed with the same content: {', '.join(report['unchanged'])}")
    for r in report.get("refused", []):
        lines.append(f"refused: {r['reason']}")
    for s in report.get("skipped", []):
        lines.append(f"skipped {s['file']}: {s['reason']}")
    if ok and not any(report.get(k) for k in ("added", "updated", "removed", "unchanged")):
        lines.append("the index was already up to date")
    if report.get("message"):
        tail = report["message"]
        if ok and report.get("documents") is not None:
            tail += f" · {report['documents']} documents, {report['chunks']} chunks"
            if report.get("added") or report.get("updated"):
                tail += " · ask about them in the Chat tab now"
        lines.append(tail)
    kind = "error" if not ok else "warn" if report.get("refused") or report.get("skipped") else "ok"
    return render.render_status(kind, lines)


def build_app(service: Service, examples: list[str] | None = None) -> gr.Blocks:
    """The Gradio Blocks app. ``examples=None`` shows the seed questions when the seed article is indexed."""
    if examples is None:
        examples = examples_for(service)
    max_mb = service.max_upload_bytes / 1048576

    def docs_outputs():
        records = service.documents()
        names = [d.source for d in records]
        return (render.render_documents(records, str(service.docs_dir)),
                gr.update(choices=names, value=None), header_html(len(records)), gr.update(choices=names))

    def header_html(n_docs: int) -> str:
        return (f'<div class="qa-header"><div class="qa-title">{TITLE}</div>'
                f'<div class="qa-subtitle">Answers are exact quotes from {n_docs} indexed '
                f'document{"s" if n_docs != 1 else ""}, each with its source. Nothing leaves this machine.</div></div>')

    # API: the same JSON object as `qa ask --json` ------------------------------------------------
    def ask(question: str, k: int = service.answerer.settings.k, mode: str = service.answerer.settings.mode,
            documents: list[str] | None = None) -> dict:
        """Answer a question from the indexed documents (only from `documents`, names or globs, when given);
        returns the `qa ask --json` object."""
        try:
            return service.ask(question, k=int(k), mode=mode, scope=documents or None).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc)) from exc

    def documents() -> list[dict]:
        """The indexed documents: source, kind, chunks, size in bytes, indexed_at (Unix time)."""
        return [{"source": d.source, "kind": d.kind, "chunks": d.chunks, "bytes": d.size,
                 "indexed_at": d.indexed_at} for d in service.documents()]

    def upload(files, progress=gr.Progress()):
        files = files or []
        if not isinstance(files, list):
            files = [files]
        try:
            return service.add_files([_file_path(f) for f in files], progress=lambda f, m: progress(f, desc=m))
        except QAError as exc:
            return {"ok": False, "message": str(exc)}

    def remove_selected(name: str | None):
        if not name:
            return {"ok": False, "message": "choose a document to remove"}
        try:
            return service.remove(name)
        except QAError as exc:
            return {"ok": False, "message": str(exc)}

    def remove_document(name: str) -> dict:
        """Delete an indexed document's file from the documents folder and update the index."""
        return remove_selected(name)

    def rebuild(progress=gr.Progress()):
        try:
            return service.rebuild(progress=lambda f, m: progress(f, desc=m))
        except QAError as exc:
            return {"ok": False, "message": str(exc)}

    def after_change(report):
        return (status_from_report(report), *docs_outputs(), None)

    # uploaded temporary files (Gradio's cache, not the corpus) are deleted after an hour
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(900, 3600)) as demo:
        session = gr.State(new_session())
        header = gr.HTML(header_html(len(service.documents())), elem_id="qa-header")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=380):
                        chatbot = gr.Chatbot(
                            label="Chat", elem_id="qa-chat", height=560, show_label=False,
                            sanitize_html=True, render_markdown=True, latex_delimiters=[], allow_tags=False,
                            feedback_options=None, buttons=[], layout="bubble",
                            placeholder=("<div class='qa-placeholder'><b>Ask a question about your documents.</b>"
                                         "<br>Every answer is quoted from a document and shows where it comes "
                                         "from.</div>"),
                        )
                        with gr.Row(equal_height=True):
                            question_box = gr.Textbox(
                                placeholder="Ask a question and press Enter", show_label=False, lines=1,
                                max_lines=4, scale=5, elem_id="qa-question", autofocus=True, submit_btn=False,
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-send")
                        if examples:
                            gr.HTML('<div class="qa-label">Example questions</div>', elem_classes=["qa-try"])
                            with gr.Row(elem_id="qa-examples"):
                                example_buttons = [gr.Button(q, size="sm", variant="secondary",
                                                             elem_classes=["qa-example"]) for q in examples]
                        else:
                            example_buttons = []
                        with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
                            with gr.Row():
                                k = gr.Slider(1, 20, value=service.answerer.settings.k, step=1, label="Passages to read",
                                              info="how many retrieved passages the reader considers")
                                mode = gr.Radio(list(MODES), value=service.answerer.settings.mode, label="Retrieval",
                                                info="hybrid = meaning + keywords; dense = meaning; bm25 = keywords")
                            scope = gr.Dropdown(choices=[], value=[], multiselect=True, label="Ask only",
                                                info="ask only these documents (empty: all of them)",
                                                elem_id="qa-scope")
                            clear = gr.Button("Clear chat", size="sm", variant="secondary")
                    with gr.Column(scale=2, min_width=320):
                        gr.HTML('<div class="qa-panel-title">Document view</div>')
                        cite_choice = gr.Dropdown(choices=[], value=None, label="Showing", interactive=True,
                                                  elem_id="qa-cite-choice")
                        docview = gr.HTML(render.render_document_placeholder(), elem_id="qa-docview")
            with gr.Tab("Documents", id="documents") as documents_tab:
                docs_html = gr.HTML(elem_id="qa-docs")
                with gr.Row(equal_height=False):
                    with gr.Column():
                        gr.HTML(f'<div class="qa-panel-title">Add documents</div><div class="qa-help">'
                                f"{', '.join(SUPPORTED_SUFFIXES)} · up to {max_mb:.0f} MB each. Saved into the "
                                f"documents folder, indexed at once; people asking meanwhile keep the current "
                                f"index until the new one is ready.</div>")
                        files = gr.File(label="Upload", file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                                        elem_id="qa-upload", height=140)
                    with gr.Column():
                        gr.HTML('<div class="qa-panel-title">Remove or rebuild</div>')
                        remove_choice = gr.Dropdown(choices=[], label="Document", elem_id="qa-remove-choice")
                        with gr.Row():
                            remove_btn = gr.Button("Remove document", variant="stop", elem_id="qa-remove")
                            rebuild_btn = gr.Button("Rebuild whole index", variant="secondary", elem_id="qa-rebuild")
                status = gr.HTML(elem_id="qa-status")
                report = gr.JSON(visible=False)

        # chat ----------------------------------------------------------------------------------
        answer_inputs = [session, k, mode, scope]
        answer_outputs = [chatbot, session, cite_choice, docview]

        def finish(s, kk, mm, sc):
            return finish_turn(service, s, kk, mm, sc)

        for trigger in (question_box.submit, send.click):
            trigger(start_turn, [question_box, session], [question_box, chatbot, session], queue=False,
                    api_visibility="private").then(
                finish, answer_inputs, answer_outputs, concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask",
                api_visibility="private", show_progress="minimal").then(None, js=SCROLL_TO_HIT)
        for button, q in zip(example_buttons, examples):
            button.click(lambda s, q=q: start_turn(q, s), [session], [question_box, chatbot, session], queue=False,
                         api_visibility="private").then(
                finish, answer_inputs, answer_outputs, concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask",
                api_visibility="private", show_progress="minimal").then(None, js=SCROLL_TO_HIT)

        def on_select(s, evt: gr.SelectData):
            return select_reply(service, s, evt)

        chatbot.select(on_select, [session], [session, cite_choice, docview], api_visibility="private").then(
            None, js=SCROLL_TO_HIT)
        cite_choice.input(lambda s, c: show_citation(service, s, c), [session, cite_choice], [docview],
                          api_visibility="private").then(None, js=SCROLL_TO_HIT)
        clear.click(clear_chat, None, [chatbot, session, cite_choice, docview], queue=False, api_visibility="private")
        chatbot.clear(clear_chat, None, [chatbot, session, cite_choice, docview], queue=False,
                      api_visibility="private")

        # documents -----------------------------------------------------------------------------
        change_outputs = [status, docs_html, remove_choice, header, scope, files]
        files.upload(upload, [files], [report], api_name="upload", concurrency_id="index", concurrency_limit=1,
                     show_progress_on=[status]).then(after_change, [report], change_outputs,
                                                     api_visibility="private")
        remove_btn.click(remove_selected, [remove_choice], [report], api_visibility="private", concurrency_id="index",
                         concurrency_limit=1, show_progress_on=[status]).then(
            after_change, [report], change_outputs, api_visibility="private")
        rebuild_btn.click(rebuild, None, [report], api_name="rebuild", concurrency_id="index", concurrency_limit=1,
                          show_progress_on=[status]).then(after_change, [report], change_outputs,
                                                          api_visibility="private")
        documents_tab.select(docs_outputs, None, [docs_html, remove_choice, header, scope], api_visibility="private")
        demo.load(docs_outputs, None, [docs_html, remove_choice, header, scope], api_visibility="private")

        gr.api(ask, api_name="ask", concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
        gr.api(documents, api_name="documents")
        gr.api(remove_document, api_name="remove", concurrency_limit=1, concurrency_id="index")
    return demo


def theme() -> gr.themes.Base:
    """Gradio's Soft theme on system fonts: nothing is fetched from the internet."""
    return gr.themes.Soft(
        primary_hue="indigo", neutral_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
           max_file_mb: float = 20, prevent_thread_lock: bool = False, quiet: bool = False,
           app_kwargs: dict | None = None):
    """Start the server (share links off, API page linked in the footer, no SSR, no telemetry).
    ``app_kwargs``: extra FastAPI arguments, e.g. the MCP endpoint's routes and lifespan (``qa serve --mcp``)."""
    demo.queue(default_concurrency_limit=1)
    return demo.launch(
        server_name=host, server_port=port, auth=auth, share=False, prevent_thread_lock=prevent_thread_lock,
        show_error=False, quiet=quiet, footer_links=["api"], max_file_size=int(max_file_mb * 1024 * 1024),
        theme=theme(), css=CSS, ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False,
        auth_message="Sign in to ask the documents." if auth else None, app_kwargs=app_kwargs or {},
    )
