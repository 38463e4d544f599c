"""``qa ask``: answer questions from the index, for people (answer, confidence, citations) or as JSON."""

from __future__ import annotations

import json
import sys

from qa.cli.common import index_args, mode_arg, reader_arg, settings_from, threshold_arg
from qa.errors import QAError
from qa.settings import Settings


def register(sub, defaults: Settings) -> None:
    p = sub.add_parser("ask", help="answer a question from the index",
                       description="Answer QUESTION with a verbatim span of a document and its citation. "
                       "QUESTION '-' reads one question per line from standard input; no QUESTION starts a prompt.")
    p.add_argument("question", nargs="?", help="the question, '-' for standard input")
    p.add_argument("-k", type=int, default=defaults.k, metavar="N", help=f"passages to read (default {defaults.k})")
    mode_arg(p, defaults)
    p.add_argument("--doc", action="append", default=None, metavar="NAME",
                   help="ask only this document (its name in the documents folder, or a glob such as '*.pdf'); "
                   "repeat for several")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    threshold_arg(p)
    reader_arg(p, defaults)
    index_args(p, defaults)
    p.set_defaults(func=lambda args: run(args, settings_from(args, defaults)))


def _place(c) -> str:
    parts = [c.source]
    if c.location:
        parts.append(c.location)
    parts.append(f"chars {c.start}-{c.end}")
    return ", ".join(parts)


_CONTROL = {c: "\ufffd" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def printable(text: str) -> str:
    """Document text for a terminal: control characters (escape sequences included) become U+FFFD."""
    return text.translate(_CONTROL)


def format_answer(answer) -> str:
    return printable(_format_answer(answer))


def _format_answer(answer) -> str:
    lines = []
    if answer.notice:
        lines.append(f"note: {answer.notice}")
    if answer.found:
        lines.append(f"Answer: {answer.answer}")
        lines.append(f"Confidence: {answer.confidence:.2f}")
        for i, c in enumerate(answer.citations, 1):
            lines.append(f"  [{i}] {_place(c)}")
            lines.append(f"      \"{c.sentence}\"")
    else:
        lines.append(f"Not found in the documents (confidence {answer.confidence:.2f}).")
        if answer.passages:
            lines.append("Closest passages:")
            for i, p in enumerate(answer.passages[:3], 1):
                snippet = " ".join(p.text.split())
                snippet = snippet[:200] + ("..." if len(snippet) > 200 else "")
                lines.append(f"  [{i}] {_place(p)}")
                lines.append(f"      {snippet}")
    return "\n".join(lines)


def run(args, settings: Settings) -> int:
    from qa.answer.pipeline import Answerer

    answerer = Answerer(settings=settings)

    def one(question: str, keep_going: bool = True) -> int:
        try:
            answer = answerer.ask(question, scope=args.doc)
        except QAError as exc:
            if not keep_going:
                raise
            if args.json:
                print(json.dumps({"question": question, "error": str(exc)}), flush=True)
            else:
                print(f"qa: error: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else format_answer(answer), flush=True)
        return 0

    if args.question == "-":
        status = 0
        for line in sys.stdin:
            if line.strip():
                status |= one(line.rstrip("\n"))
        return status
    if args.question is not None:
        return one(args.question, keep_going=False)
    # interactive prompt
    answerer.warm_up()
    print(f"Ask about the documents in {answerer.index.describe()} (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("question> ")
        except EOFError:
            print()
            return 0
        if not question.strip():
            return 0
        one(question)
        print()
