"""The browser chat: a Gradio 6 app over one ``Answerer`` (the library entry point, no second pipeline).

Tabs: **Chat** (``chat_tab``: multi-turn chat, cited answers whose links open the document view at the
span, settings, example questions, kept across reloads, Markdown export) and **Documents**
(``documents_tab``: what is indexed; upload, remove to the trash with undo, rebuild).

Named API endpoints for ``gradio_client``: ``/ask`` (the ``qa ask --json`` object), ``/documents``,
``/upload`` (files), ``/remove`` (a document name; its file goes to ``.trash/``), ``/rebuild``.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import logging

import gradio as gr

from qa.errors import QAError

from . import chat_tab
from .chat_tab import ASK_CONCURRENCY, build_chat_tab
from .client import CLIENT_JS
from .documents_tab import TITLE, build_documents_tab, header_html
from .service import Service
from .style import CSS

log = logging.getLogger("qa.serve")

SEED_SOURCE = "000_68c7ef664bad3911.txt"  # the article in seeds/
SEED_EXAMPLES = [
    "How much economic assistance has Japan provided to Ukraine since 2022?",
    "Who is the Japanese Foreign Minister?",
    "When did Japan sign a security arrangement with Kyiv?",
    "What share of GDP will Japan spend on defense?",
]


def examples_for(service: Service) -> list[str]:
    """The seed questions, when the index holds the seed article."""
    try:
        sources = {d.source.rsplit("/", 1)[-1] for d in service.documents()}
    except Exception:  # noqa: BLE001 - a page without examples is better than no page
        return []
    return list(SEED_EXAMPLES) if SEED_SOURCE in sources else []


def add_api(service: Service, remove) -> None:
    """The named endpoints that have no button of their own: ``/ask``, ``/documents``, ``/remove``."""

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

    def remove_document(name: str) -> dict:
        """Move an indexed document's file to .trash/ in the documents folder and update the index."""
        return remove(name)

    gr.api(ask, api_name="ask", concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
    gr.api(documents, api_name="documents")
    gr.api(remove_document, api_name="remove", concurrency_limit=1, concurrency_id="index")


def build_app(service: Service, examples: list[str] | None = None) -> gr.Blocks:
    """The Gradio Blocks app. ``examples=None`` shows the seed questions when the seed article is indexed."""
    if examples is None:
        examples = examples_for(service)
    # uploaded temporary files (Gradio's cache, not the corpus) are deleted after an hour
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(900, 3600)) as demo:
        header = gr.HTML(header_html(len(service.documents())), elem_id="qa-header")
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                ui = build_chat_tab(service, examples)
            with gr.Tab("Documents", id="documents") as documents_tab:
                docs_outputs, docs_components, remove = build_documents_tab(service, header, tabs, documents_tab, ui)
        demo.load(docs_outputs, None, docs_components, show_progress="hidden", api_visibility="private")
        demo.load(lambda stored: chat_tab.restore(service, ui, stored), [ui.stored], chat_tab.restore_outputs(ui),
                  api_visibility="private")
        add_api(service, remove)
    return demo


def theme() -> gr.themes.Base:
    """Gradio's Soft theme on system fonts: nothing is fetched from the internet."""
    return gr.themes.Soft(
        primary_hue="indigo", neutral_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    ).set(  # subdued text and labels dark (light) enough for WCAG AA contrast
        body_text_color_subdued="*neutral_600", body_text_color_subdued_dark="*neutral_300",
        block_info_text_color="*neutral_600", block_info_text_color_dark="*neutral_300",
        block_label_text_color="*neutral_700", block_label_text_color_dark="*neutral_200",
        block_title_text_color="*primary_700", block_title_text_color_dark="*neutral_50",
        button_primary_background_fill="*primary_700", button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover="*primary_800", button_primary_background_fill_hover_dark="*primary_600",
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
        theme=theme(), css=CSS, js=CLIENT_JS, ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False,
        auth_message="Sign in to ask the documents." if auth else None, app_kwargs=app_kwargs or {},
    )
