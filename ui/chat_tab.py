"""The Chat tab: the conversation, the input, settings, and the document view, wired to ``chat``."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import gradio as gr

from qa.settings import MAX_K, MODES

from . import chat, render, transcript
from .client import DOWNLOAD_MARKDOWN, SCROLL_TO_HIT, SHOW_HIT
from .service import Service

log = logging.getLogger("qa.serve")
ASK_CONCURRENCY = 4
PLACEHOLDER = ("<div class='qa-placeholder'><b>Ask a question about your documents.</b><br>Every answer is "
               "quoted from a document and shows where it comes from.</div>")


@dataclass
class ChatTab:
    session: gr.State
    stored: gr.BrowserState
    chatbot: gr.Chatbot
    question: gr.Textbox
    scope: gr.Dropdown
    cite_choice: gr.Dropdown
    docview: gr.HTML
    export_text: gr.Textbox
    ask_controls: list  # the Ask button and the example questions (with ``question``: enabled on load)


def _conversation(service: Service, examples: list[str]):
    chatbot = gr.Chatbot(
        label="Conversation", elem_id="qa-chat", height="calc(100dvh - 250px)", min_height=260, show_label=False,
        sanitize_html=True, render_markdown=True, latex_delimiters=[], allow_tags=False, feedback_options=None,
        buttons=[], layout="bubble", placeholder=PLACEHOLDER, autoscroll=True,
    )
    with gr.Row(equal_height=True, elem_id="qa-ask-row"):
        # disabled until the page load has restored the conversation kept in the browser (``restore``): a
        # question asked before that would be wiped from the chat when the restored one arrives
        question = gr.Textbox(placeholder="Ask a question", show_label=False, lines=1, max_lines=4,
                              scale=5, elem_id="qa-question", autofocus=True, submit_btn=False, label="Question",
                              interactive=False)
        send = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="qa-send", interactive=False)
    buttons = []
    if examples:
        gr.HTML('<div class="qa-label">Example questions</div>', elem_classes=["qa-try"])
        with gr.Row(elem_id="qa-examples"):
            buttons = [gr.Button(q, size="sm", variant="secondary", elem_classes=["qa-example"], interactive=False)
                       for q in examples]
    with gr.Row(elem_id="qa-chat-actions"):
        export = gr.Button("Export chat (Markdown)", size="sm", variant="secondary", elem_id="qa-export")
        clear = gr.Button("Clear chat", size="sm", variant="secondary", elem_id="qa-clear")
    with gr.Accordion("Settings", open=False, elem_id="qa-settings"):
        with gr.Row():
            k = gr.Slider(1, MAX_K, value=service.answerer.settings.k, step=1, label="Passages to read",
                          info="how many retrieved passages the reader considers")
            mode = gr.Radio(list(MODES), value=service.answerer.settings.mode, label="Retrieval",
                            info="hybrid = meaning + keywords; dense = meaning; bm25 = keywords")
        scope = gr.Dropdown(choices=[], value=[], multiselect=True, label="Ask only",
                            info="ask only these documents (empty: all of them)", elem_id="qa-scope")
    return chatbot, question, send, buttons, export, clear, k, mode, scope


def build_chat_tab(service: Service, examples: list[str]) -> ChatTab:
    """Lay out the Chat tab (inside a ``gr.Tab``) and wire its events."""
    session = gr.State(chat.new_session())
    # the conversation survives a reload, encrypted in this browser's localStorage (a key per server start)
    stored = gr.BrowserState(None, storage_key="qa-chat", secret=secrets.token_hex(16))
    with gr.Row(equal_height=False, elem_id="qa-chat-row"):
        with gr.Column(scale=3, min_width=340):
            chatbot, question, send, examples_buttons, export, clear, k, mode, scope = _conversation(
                service, examples)
        with gr.Column(scale=2, min_width=300, elem_id="qa-docview-col"):
            gr.HTML('<div class="qa-docview-head"><h2 class="qa-panel-title">Document view</h2><button type="button" '
                    'class="qa-sheet-close" aria-label="Close the document view">Close</button></div>')
            cite_choice = gr.Dropdown(choices=[], value=None, label="Showing", interactive=True,
                                      elem_id="qa-cite-choice", visible=False)
            docview = gr.HTML(render.render_document_placeholder(), elem_id="qa-docview")
    jump = gr.Textbox(visible="hidden", elem_id="qa-jump", label="Jump to a source")
    export_text = gr.Textbox(visible="hidden", elem_id="qa-export-text", label="Conversation as Markdown")
    tab = ChatTab(session, stored, chatbot, question, scope, cite_choice, docview, export_text, [send, *examples_buttons])
    _wire(service, tab, send, examples_buttons, examples, export, clear, jump, k, mode)
    return tab


def persist(session: dict):
    return transcript.to_storage(session), transcript.to_markdown(session)


def _wire(service: Service, tab: ChatTab, send, example_buttons, examples, export, clear, jump, k, mode) -> None:
    answer_inputs = [tab.session, k, mode, tab.scope]
    answer_outputs = [tab.chatbot, tab.session, tab.cite_choice, tab.docview]
    private = {"api_visibility": "private"}

    def finish(s, kk, mm, sc):
        return chat.finish_turn(service, s, kk, mm, sc)

    def answered(event):
        event.then(finish, answer_inputs, answer_outputs, concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask",
                   show_progress="minimal", **private).then(
            None, js=SCROLL_TO_HIT).then(persist, [tab.session], [tab.stored, tab.export_text], queue=False,
                                         show_progress="hidden", **private)

    for trigger in (tab.question.submit, send.click):
        answered(trigger(chat.start_turn, [tab.question, tab.session], [tab.question, tab.chatbot, tab.session],
                         queue=False, **private))
    for button, q in zip(example_buttons, examples):
        answered(button.click(lambda s, q=q: chat.start_turn(q, s), [tab.session],
                              [tab.question, tab.chatbot, tab.session], queue=False, **private))

    def on_select(s, evt: gr.SelectData):
        return chat.select_reply(service, s, evt)

    sources = [tab.session, tab.cite_choice, tab.docview]
    tab.chatbot.select(on_select, [tab.session], sources, **private).then(None, js=SCROLL_TO_HIT)
    jump.change(lambda s, t: chat.jump(service, s, t), [tab.session, jump], sources, queue=False,
               show_progress="hidden", **private).then(None, js=SHOW_HIT)
    tab.cite_choice.input(lambda s, c: chat.show_citation(service, s, c), [tab.session, tab.cite_choice],
                          [tab.docview], **private).then(None, js=SCROLL_TO_HIT)
    cleared = [tab.chatbot, tab.session, tab.cite_choice, tab.docview]
    for event in (clear.click, tab.chatbot.clear):
        event(chat.clear_chat, None, cleared, queue=False, **private).then(
            persist, [tab.session], [tab.stored, tab.export_text], queue=False, **private)
    export.click(None, [tab.export_text], None, js=DOWNLOAD_MARKDOWN)


def restore_outputs(tab: ChatTab) -> list:
    """What ``restore`` updates, in its order."""
    return [tab.chatbot, tab.session, tab.cite_choice, tab.docview, tab.export_text, tab.question, *tab.ask_controls]


def restore(service: Service, tab: ChatTab, stored):
    """On page load: the conversation kept in this browser, replies citing removed documents marked; then
    asking is enabled (``restore_outputs``), also when the stored conversation cannot be read (a new one)."""
    try:
        restored = _restored(service, stored)
    except Exception:  # whatever is stored, the chat must open
        log.warning("the conversation kept in the browser could not be restored; starting a new one", exc_info=True)
        restored = _restored(service, None)
    return *restored, *[gr.update(interactive=True)] * (1 + len(tab.ask_controls))


def _restored(service: Service, stored) -> tuple:
    session = chat.mark_removed(transcript.from_storage(stored), {d.source for d in service.documents()})
    current = session.get("current")
    if current in session["answers"]:
        picker, view = chat.sources_outputs(service, session["answers"][current])
    else:
        picker, view = gr.update(choices=[], value=None, visible=False), render.render_document_placeholder()
    return session["messages"], session, picker, view, transcript.to_markdown(session)
