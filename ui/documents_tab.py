"""The Documents tab: what is indexed; upload, remove (confirmed, to the trash, with undo), rebuild."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from qa.config import SUPPORTED_SUFFIXES
from qa.errors import QAError
from qa.wording import plural

from . import chat, render
from .chat_tab import ChatTab
from .service import Service

TITLE = "Ask your documents"


def header_html(n_docs: int) -> str:
    return (f'<div class="qa-header"><h1 class="qa-title">{TITLE}</h1>'
            f'<div class="qa-subtitle">Answers are exact quotes from {plural(n_docs, "indexed document")}, '
            f"each with its source. Nothing leaves this machine.</div></div>")


def file_path(f) -> tuple[str, str]:
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
    for key in ("added", "updated", "removed"):
        if report.get(key):
            lines.append(f"{key}: {', '.join(report[key])}")
    for r in report.get("renamed", []):
        lines.append(f"{r['file']} saved as {r['saved_as']}")
    if report.get("unchanged"):
        lines.append(f"already indexed with the same content: {', '.join(report['unchanged'])}")
    for r in report.get("refused", []):
        lines.append(f"refused: {r['reason']}")
    for s in report.get("skipped", []):
        lines.append(f"skipped {s['file']}: {s['reason']}")
    for s in report.get("skipped_pages", []):  # the rest of the file was indexed
        lines.append(f"{s['file']}, {s['reason']} (the rest of the file was indexed)")
    if ok and not any(report.get(k) for k in ("added", "updated", "removed", "unchanged")):
        lines.append("the index was already up to date")
    if report.get("message"):
        tail = report["message"]
        if ok and report.get("documents") is not None:
            tail += f" · {plural(report['documents'], 'document')}, {plural(report['chunks'], 'chunk')}"
        lines.append(tail)
    kind = "error" if not ok else "warn" if any(report.get(k) for k in ("refused", "skipped", "skipped_pages")) else "ok"
    return render.render_status(kind, lines)


def _layout(service: Service):
    max_mb = service.max_upload_bytes / 1048576
    docs_html = gr.HTML(elem_id="qa-docs")
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.HTML(f'<h2 class="qa-panel-title">Add documents</h2><div class="qa-help">'
                    f"{', '.join(SUPPORTED_SUFFIXES)} · up to {max_mb:.0f} MB each. Saved into the documents "
                    f"folder, indexed at once; people asking meanwhile keep the current index until the new one "
                    f"is ready.</div>")
            files = gr.File(label="Upload", file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                            elem_id="qa-upload", height=140)
            # why a file Gradio refuses before it reaches the server was not added (filled in by client.py)
            gr.HTML(f'<div id="qa-upload-note" class="qa-upload-note" role="alert" hidden '
                    f'data-types="{" ".join(SUPPORTED_SUFFIXES)}" data-max-bytes="{service.max_upload_bytes}"></div>',
                    padding=False)
            ask_about = gr.Button("Ask about it", visible=False, variant="primary", size="sm", elem_id="qa-ask-about")
        with gr.Column():
            gr.HTML('<h2 class="qa-panel-title">Remove a document</h2><div class="qa-help">The file moves to '
                    "<code>.trash/</code> in the documents folder; you can undo it.</div>")
            remove_choice = gr.Dropdown(choices=[], label="Document", elem_id="qa-remove-choice")
            remove_btn = gr.Button("Remove…", variant="stop", elem_id="qa-remove", elem_classes=["qa-danger"])
            with gr.Group(visible=False, elem_id="qa-confirm") as confirm:
                confirm_text = gr.HTML()
                with gr.Row():
                    confirm_btn = gr.Button("Move to trash", variant="stop", elem_id="qa-confirm-remove",
                                            elem_classes=["qa-danger"])
                    cancel_btn = gr.Button("Cancel", variant="secondary", elem_id="qa-cancel-remove")
            undo_btn = gr.Button("Undo remove", visible=False, variant="secondary", elem_id="qa-undo")
            gr.HTML('<h2 class="qa-panel-title">Rebuild</h2><div class="qa-help">Re-reads and re-embeds every '
                    "document (slow; the files are not touched).</div>")
            rebuild_btn = gr.Button("Rebuild whole index", variant="secondary", elem_id="qa-rebuild")
    status = gr.HTML(elem_id="qa-status")
    return (docs_html, files, ask_about, remove_choice, remove_btn, confirm, confirm_text, confirm_btn, cancel_btn,
            undo_btn, rebuild_btn, status)


def build_documents_tab(service: Service, header: gr.HTML, tabs: gr.Tabs, documents_tab: gr.Tab, ui: ChatTab):
    """Lay out the Documents tab (inside its ``gr.Tab``) and wire its events; returns its refresh function
    and the components it updates, for the page's load event."""
    (docs_html, files, ask_about, remove_choice, remove_btn, confirm, confirm_text, confirm_btn, cancel_btn,
     undo_btn, rebuild_btn, status) = _layout(service)
    report = gr.JSON(visible=False)
    removed = gr.State(None)  # the last document removed here, for undo
    new_docs = gr.State([])  # the documents the last upload added, for "Ask about it"
    private = {"api_visibility": "private"}

    def docs_outputs():
        records = service.documents()
        names = [d.source for d in records]
        return (render.render_documents(records, str(service.docs_dir)), gr.update(choices=names, value=None),
                header_html(len(records)), gr.update(choices=names))

    def upload(files, progress=gr.Progress()):  # noqa: B008 - Gradio's way to report progress
        files = files if isinstance(files, list) else [files] if files else []
        try:
            return service.add_files([file_path(f) for f in files], progress=lambda f, m: progress(f, desc=m))
        except QAError as exc:
            return {"ok": False, "message": str(exc)}

    def confirm_remove(name):
        if not name:
            return gr.update(visible=False), "", render.render_status("error", ["choose a document to remove"])
        text = (f'<div class="qa-confirm-text">Remove <b>{render.esc_inline(name)}</b>? Its file moves to the '
                "trash and its answers go; undo brings both back.</div>")
        return gr.update(visible=True), text, ""

    def move_to_trash(name):
        try:
            return service.remove(name) if name else {"ok": False, "message": "choose a document to remove"}
        except QAError as exc:
            return {"ok": False, "message": str(exc)}

    def undo_remove(name):
        try:
            return service.restore(name) if name else {"ok": False, "message": "nothing to undo"}
        except QAError as exc:
            return {"ok": False, "message": str(exc)}

    def rebuild(progress=gr.Progress()):  # noqa: B008 - Gradio's way to report progress
        try:
            return service.rebuild(progress=lambda f, m: progress(f, desc=m))
        except QAError as exc:
            return {"ok": False, "message": str(exc)}

    def after_change(rep, session, last_removed):
        rep = rep or {}
        trashed = rep.get("trashed") or (None if rep.get("ok") and rep.get("message", "").startswith("restored")
                                         else last_removed)
        new = (rep.get("added") or []) + (rep.get("updated") or [])
        ask = gr.update(visible=bool(new), value=f"Ask about {new[0]}" if len(new) == 1 else "Ask about them")
        undo = gr.update(visible=bool(trashed), value=f"Undo: restore {trashed}" if trashed else "Undo remove")
        return (status_from_report(rep), *docs_outputs(), None, gr.update(visible=False), undo, trashed, ask, new,
                *chat.after_documents_change(service, session))

    change_outputs = [status, docs_html, remove_choice, header, ui.scope, files, confirm, undo_btn, removed,
                      ask_about, new_docs, ui.chatbot, ui.session, ui.cite_choice, ui.docview]
    after = {"fn": after_change, "inputs": [report, ui.session, removed], "outputs": change_outputs,
             "show_progress": "hidden", **private}
    index_job = {"concurrency_id": "index", "concurrency_limit": 1, "show_progress_on": [status]}
    files.upload(upload, [files], [report], api_name="upload", **index_job).then(**after)
    remove_btn.click(confirm_remove, [remove_choice], [confirm, confirm_text, status], queue=False, **private)
    for event in (cancel_btn.click, remove_choice.input):
        event(lambda: gr.update(visible=False), None, [confirm], queue=False, **private)
    confirm_btn.click(move_to_trash, [remove_choice], [report], **index_job, **private).then(**after)
    undo_btn.click(undo_remove, [removed], [report], **index_job, **private).then(**after)
    rebuild_btn.click(rebuild, None, [report], api_name="rebuild", **index_job).then(**after)
    ask_about.click(lambda names: (gr.update(value=names), gr.Tabs(selected="chat"), gr.update(visible=False)),
                    [new_docs], [ui.scope, tabs, ask_about], queue=False, **private).then(
        None, js="() => { const b = document.querySelector('#qa-question textarea'); if (b) b.focus(); }")
    documents_tab.select(docs_outputs, None, [docs_html, remove_choice, header, ui.scope], show_progress="hidden",
                         **private)
    return docs_outputs, [docs_html, remove_choice, header, ui.scope], move_to_trash
