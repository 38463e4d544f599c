"""One browser session's chat: pure functions of the session dict (easy to test without a browser).

A session is ``{"messages": [...], "answers": {reply index: answer JSON}, "current": reply index,
"pending": question}``: the chatbot's messages, the answer behind each reply (what its links point to),
the reply the document view shows, and a question shown but not yet answered.
"""

from __future__ import annotations

import logging

import gradio as gr

from qa.errors import QAError
from qa.settings import MODES

from . import render, replies
from .service import Service

log = logging.getLogger("qa.serve")

KEEP_SOURCES = 50  # replies per session whose sources stay clickable (older ones keep their text)


def new_session() -> dict:
    return {"messages": [], "answers": {}, "current": None, "pending": None}


def start_turn(question: str, session: dict):
    """Show the question at once and clear the box; the answer follows in ``finish_turn``."""
    session = dict(session or new_session())
    question = (question or "").strip()
    if not question:
        return gr.update(), session["messages"], session
    session["messages"] = session["messages"] + [{"role": "user", "content": replies.render_question(question)}]
    session["pending"] = question
    return "", session["messages"], session


def doc_view(service: Service, answer: dict, key: str | None) -> str:
    """The document view for one place an answer points to (``key`` as in ``render.places_of``)."""
    places = dict(render.places_of(answer))
    if not places:
        return render.render_document_placeholder()
    key = key if key in places else next(iter(places))
    c = places[key]
    sentence = (c["sentence_start"], c["sentence_end"]) if "sentence_start" in c else None
    n = int(key[1:]) + 1
    what = f"[{n}]" if key[0] != "a" else f"other answer {n}"
    hint = f"{what} {c['source']} · characters {c['start']}–{c['end']}"
    return render.render_document(c["source"], service.document_text(c["source"]), c["start"], c["end"],
                                  hint=hint, sentence=sentence, passage=key[0] == "p",
                                  label=render.place_label(c))


def sources_outputs(service: Service, data: dict, key: str | None = None):
    """The "Showing" picker (shown only when there is something to show) and the document view."""
    choices = render.citation_choices(data)
    keys = [k for _, k in choices]
    value = key if key in keys else (keys[0] if keys else None)
    return gr.update(choices=choices, value=value, visible=bool(choices)), doc_view(service, data, value)


def finish_turn(service: Service, session: dict, k, mode, scope=None):
    session = dict(session or new_session())
    question = session.get("pending")
    if not question:
        return session["messages"], session, gr.update(), gr.update()
    session["pending"] = None
    index = len(session["messages"])
    try:
        answer = service.ask(question, k=int(k), mode=mode if mode in MODES else None, scope=scope or None)
        reply = replies.render_answer(answer, index)
        data = answer.to_dict()
    except QAError as exc:
        reply, data = replies.render_error(str(exc)), None
    except Exception:
        log.exception("answering %r failed", question)
        reply, data = replies.render_error("Something went wrong while answering; see the server log."), None
    messages = session["messages"] + [{"role": "assistant", "content": reply}]
    answers = {i: a for i, a in session["answers"].items() if i >= len(messages) - 2 * KEEP_SOURCES}
    if data is not None:
        data.pop("timings_ms", None)
        answers[index] = data
        session["current"] = index
    session["messages"], session["answers"] = messages, answers
    if data is None:
        return messages, session, gr.update(), gr.update()
    return messages, session, *sources_outputs(service, data)


def select_reply(service: Service, session: dict, evt: gr.SelectData):
    """A click on a reply shows its sources in the document view."""
    index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    answers = (session or {}).get("answers", {})
    for i in (index, (index or 0) + 1):  # a click on a question shows its answer
        if isinstance(i, int) and i in answers:
            session = dict(session, current=i)
            return session, *sources_outputs(service, answers[i])
    return session, gr.update(), gr.update()


def jump(service: Service, session: dict, target: str):
    """A click on a link in a reply (``"reply:key:nonce"``, see ``replies``): that place in the document view."""
    try:
        reply, key = str(target).split(":")[:2]
        reply = int(reply)
    except ValueError:
        return session, gr.update(), gr.update()
    answers = (session or {}).get("answers", {})
    if reply not in answers:
        return session, gr.update(), gr.update()
    session = dict(session, current=reply)
    return session, *sources_outputs(service, answers[reply], key)


def show_citation(service: Service, session: dict, choice):
    answers = (session or {}).get("answers", {})
    current = (session or {}).get("current")
    if current not in answers or choice is None:
        return gr.update()
    return doc_view(service, answers[current], str(choice))


def clear_chat():
    return ([], new_session(), gr.update(choices=[], value=None, visible=False),
            render.render_document_placeholder())


# --- replies citing removed documents ---------------------------------------------------------------------


def cited_sources(answer: dict) -> list[str]:
    return list(dict.fromkeys(item["source"] for _, item in render.places_of(answer)))


def mark_removed(session: dict, present: set[str]) -> dict:
    """The session with each reply citing a document no longer indexed marked (and unmarked when it is back)."""
    session = dict(session or new_session())
    messages = list(session["messages"])
    for i, answer in session["answers"].items():
        if 0 <= i < len(messages) and messages[i].get("role") == "assistant":
            gone = [s for s in cited_sources(answer) if s not in present]
            content = replies.mark_gone(messages[i]["content"], gone)
            if content != messages[i]["content"]:
                messages[i] = dict(messages[i], content=content)
    session["messages"] = messages
    return session


def after_documents_change(service: Service, session: dict):
    """After an upload, removal or undo: replies marked, and the document view and picker redrawn."""
    session = mark_removed(session, {d.source for d in service.documents()})
    current = session.get("current")
    if current not in session["answers"]:
        return session["messages"], session, gr.update(), gr.update()
    return session["messages"], session, *sources_outputs(service, session["answers"][current])
