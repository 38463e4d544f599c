"""The conversation outside the server: kept in the browser across reloads, and exported as Markdown."""

from __future__ import annotations

from .chat import KEEP_SOURCES, new_session
from .render import place_label, place_tip

MAX_STORED_MESSAGES = 2 * KEEP_SOURCES


def to_storage(session: dict) -> dict:
    """A JSON-safe copy of the session for the browser's storage (the last ``MAX_STORED_MESSAGES``)."""
    session = session or new_session()
    messages = session["messages"]
    cut = max(0, len(messages) - MAX_STORED_MESSAGES)
    if cut and messages[cut].get("role") == "assistant":
        cut += 1  # start at a question
    answers = {str(i - cut): _slim(a) for i, a in session["answers"].items() if i >= cut}
    current = session.get("current")
    return {"version": 1, "messages": messages[cut:], "answers": answers,
            "current": current - cut if isinstance(current, int) and current >= cut else None}


def _slim(answer: dict) -> dict:
    """An answer without what the chat never shows again (retrieval scores, passages past the third)."""
    keep = dict(answer)
    keep["passages"] = [{k: v for k, v in p.items() if not k.endswith("score")} for p in answer.get("passages", [])]
    if not answer.get("citations"):
        keep["passages"] = keep["passages"][:3]
    return keep


def from_storage(stored) -> dict:
    """The session saved by ``to_storage`` (a new one when there is none or it is not ours)."""
    if not isinstance(stored, dict) or stored.get("version") != 1:
        return new_session()
    try:
        messages = [{"role": m["role"], "content": str(m["content"])} for m in stored["messages"]
                    if m.get("role") in ("user", "assistant")]
        answers = {int(i): a for i, a in stored["answers"].items() if isinstance(a, dict)}
    except (KeyError, TypeError, ValueError, AttributeError):
        return new_session()
    current = stored.get("current")
    return {"messages": messages, "answers": answers, "current": current if current in answers else None,
            "pending": None}


def to_markdown(session: dict) -> str:
    """The conversation as Markdown: each question, its answer (or "not found"), quotes and sources."""
    lines = ["# Questions and answers", ""]
    for _, answer in sorted((session or new_session())["answers"].items()):
        lines += [f"## {' '.join(answer['question'].split())}", ""]
        if answer.get("answer") is not None:
            lines += [f"**{answer['answer']}**", ""]
            for n, c in enumerate(answer["citations"], 1):
                lines += [f"> {' '.join(c['sentence'].split())}", ">",
                          f"> — [{n}] {place_label(c)} ({place_tip(c)})", ""]
        else:
            lines += ["*Not found in the documents.* Closest passages:", ""]
            for n, p in enumerate(answer.get("passages", [])[:3], 1):
                lines += [f"{n}. {place_label(p)} ({place_tip(p)})"]
            lines.append("")
    return "\n".join(lines)
