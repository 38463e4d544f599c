"""The MCP tools: what an assistant may ask of the index, and the JSON each one returns.

``ask``, ``list_documents`` and ``read`` only read; ``upload`` and ``remove`` exist only when the server
was started with ``--mcp-write``. Each tool is a plain function over the chat's ``Service`` (the one
``Answerer``, the chat's upload limits and index lock), so the chat, ``/ask`` and the assistant get the
same answers and the same rules. Nothing here imports the MCP SDK: ``qa.mcp.server`` puts these on the
wire. A mistake the caller can fix is a ``QAError`` with one line saying what to fix.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import SUPPORTED_SUFFIXES
from qa.errors import QAError
from qa.settings import MAX_K, MODES, Settings

if TYPE_CHECKING:
    from ui.service import Service

MAX_READ_CHARS = 10_000  # one read: enough to check a quote in its context, small enough for a prompt


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    schema: dict  # JSON Schema (2020-12) of the arguments
    run: Callable[[Service, dict], dict]
    writes: bool = False  # changes the documents or the index


def _title(record) -> str:
    # DocumentRecord gains a title soon; until then a document's title is its source
    return getattr(record, "title", None) or record.source


def _ask(service: Service, args: dict) -> dict:
    answer = service.ask(args["question"], k=args.get("k"), mode=args.get("mode"), scope=args.get("documents"))
    return answer.to_dict()


def _list_documents(service: Service, args: dict) -> dict:
    docs = [{"source": d.source, "title": _title(d), "type": d.kind, "size": d.size, "chunks": d.chunks,
             "indexed_at": datetime.datetime.fromtimestamp(d.indexed_at, datetime.UTC).isoformat(timespec="seconds")}
            for d in service.documents()]
    return {"documents": docs, "count": len(docs)}


def _read(service: Service, args: dict) -> dict:
    source = args["source"]
    text = service.document_text(source)
    if text is None:
        raise QAError(f"no indexed document is called '{source[:200]}'; list_documents gives their sources")
    size, start = len(text), args.get("start", 0)
    end = args.get("end", min(size, start + MAX_READ_CHARS))
    if start > size:
        raise QAError(f"start {start} is past the end of '{source}', which has {size} characters")
    if end < start:
        raise QAError(f"end {end} is before start {start}")
    if end - start > MAX_READ_CHARS:
        raise QAError(f"at most {MAX_READ_CHARS} characters per read: read {start}..{start + MAX_READ_CHARS}, "
                      "then continue from there")
    if end > size:
        raise QAError(f"end {end} is past the end of '{source}', which has {size} characters")
    return {"source": source, "start": start, "end": end, "length": size, "text": text[start:end]}


def _upload_bytes(args: dict, limit: int) -> bytes:
    if ("text" in args) == ("base64" in args):
        raise QAError("give the file's content as either text or base64 (one of them)")
    if "text" in args:
        data = args["text"].encode("utf-8")
    else:
        if len(args["base64"]) > (limit + 3) * 4 // 3:
            raise QAError(f"the file is over the {limit / 2**20:g} MB upload limit")
        try:
            data = base64.b64decode(args["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise QAError("base64 is not valid base64") from None
    if len(data) > limit:
        raise QAError(f"the file is over the {limit / 2**20:g} MB upload limit")
    return data


def _upload(service: Service, args: dict) -> dict:
    data = _upload_bytes(args, service.max_upload_bytes)
    with tempfile.TemporaryDirectory(prefix="qa-mcp-upload-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        report = service.add_files([(str(path), args["name"])])
    if not report["ok"]:
        reasons = "; ".join(r["reason"] for r in report["refused"]) or report.get("message", "")
        raise QAError(f"upload refused: {reasons}")
    return report


def _remove(service: Service, args: dict) -> dict:
    report = service.remove(args["source"])
    if not report["ok"]:
        raise QAError(report["message"])
    return report


def _object(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


ASK = Tool(
    "ask", "Ask the documents",
    "Answer a question from the user's own documents with a verbatim quote and where it stands. Returns "
    "JSON: 'answer' (exact text of one document, or null), 'confidence' (0-1), 'citations' (citations[0] "
    "locates the answer: source, title, page, section, start/end character offsets, and the sentence it "
    "stands in) and 'passages' (the closest passages). When 'answer' is not null, give it as a quote with "
    "its citation (document, page or section). When 'answer' is null, say that the documents do not say; "
    "do not answer from your own knowledge as if the documents did (the passages may be quoted as related "
    "text, not as the answer). 'read' shows the text around a citation.",
    _object({
        "question": {"type": "string", "description": "the question, in plain words"},
        "k": {"type": "integer", "minimum": 1, "maximum": MAX_K,
              "description": f"how many of the best passages to read (default {Settings.k})"},
        "mode": {"type": "string", "enum": list(MODES), "description": "retrieval: hybrid (default), dense or bm25"},
        "documents": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                      "description": "ask only these documents: sources from list_documents, or globs such as "
                      "'*.pdf'; for questions that only make sense inside one document"},
    }, ["question"]),
    _ask,
)
LIST_DOCUMENTS = Tool(
    "list_documents", "List the documents",
    "The indexed documents: source (the name 'ask', 'read' and citations use), title, type, size in bytes, "
    "chunks, and when it was indexed (UTC).",
    _object({}, []),
    _list_documents,
)
READ = Tool(
    "read", "Read a document",
    f"The exact text of a document between two character offsets (at most {MAX_READ_CHARS} characters), "
    "to check a quote or read around it: a citation's start/end give the quote itself, its "
    "sentence_start/sentence_end its sentence. Returns JSON: source, start, end, length (the whole "
    "document's characters) and text.",
    _object({
        "source": {"type": "string", "description": "a document's source, as in list_documents or a citation"},
        "start": {"type": "integer", "minimum": 0, "description": "first character (default 0)"},
        "end": {"type": "integer", "minimum": 0,
                "description": f"character after the last (default: start + {MAX_READ_CHARS}, or the document's end)"},
    }, ["source"]),
    _read,
)
UPLOAD = Tool(
    "upload", "Add a document",
    f"Add a document to the user's documents folder and index it ({', '.join(SUPPORTED_SUFFIXES)}); a file of "
    "the same name is replaced. Give its content as 'text' (text formats) or 'base64' (any format). Returns "
    "what was added, updated or refused.",
    _object({
        "name": {"type": "string", "description": "file name with its extension, e.g. notes.md"},
        "text": {"type": "string", "description": "the file's content as text (UTF-8)"},
        "base64": {"type": "string", "description": "the file's bytes, base64-encoded"},
    }, ["name"]),
    _upload, writes=True,
)
REMOVE = Tool(
    "remove", "Remove a document",
    "Take a document out of the user's documents folder and the index, as the chat's remove does. Returns "
    "what was removed.",
    _object({"source": {"type": "string", "description": "the document's source, as in list_documents"}}, ["source"]),
    _remove, writes=True,
)


def tools(writable: bool = False) -> list[Tool]:
    """The tools a server offers: read-only unless it was started with ``--mcp-write``."""
    return [t for t in (ASK, LIST_DOCUMENTS, READ, UPLOAD, REMOVE) if writable or not t.writes]


def check_arguments(tool: Tool, arguments: Mapping[str, Any] | None) -> dict:
    """The arguments, if they fit the tool's schema; else a one-line ``QAError`` naming what is wrong."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    args = dict(arguments or {})
    known = tool.schema["properties"]
    unknown = sorted(set(args) - set(known))
    if unknown:
        takes = ", ".join(known) or "no arguments"
        raise QAError(f"{tool.name}: unknown argument{'s' if len(unknown) > 1 else ''} "
                      f"{', '.join(map(repr, unknown))} ({tool.name} takes {takes})")
    error = best_match(Draft202012Validator(tool.schema).iter_errors(args))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path)
        message = " ".join(error.message.split())[:300]
        raise QAError(f"{tool.name}: {where + ': ' if where else ''}{message}")
    return args


def call(tool: Tool, service: Callable[[], Service], arguments: Mapping[str, Any] | None) -> dict:
    """Run one tool call: its JSON result, or ``QAError`` for anything the caller can fix. The arguments
    are checked before ``service()`` is asked for (it may wait for the model, or fail without an index)."""
    args = check_arguments(tool, arguments)
    return tool.run(service(), args)
