"""The ``qa`` command: index, ask, stats (and serve, eval where installed)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from .config import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR
from .errors import QAError


def _index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--index",
        default=os.environ.get("QA_INDEX", DEFAULT_INDEX_DIR),
        metavar="DIR",
        help="index folder of the embedded store (default: $QA_INDEX or ./index)",
    )
    p.add_argument(
        "--store",
        default=os.environ.get("QA_STORE") or None,
        metavar="URL",
        help="keep the index in PostgreSQL + pgvector instead of --index, e.g. postgresql://user@host/db "
        "(default: $QA_STORE)",
    )


def index_location(args) -> str:
    """Where the index lives: --store (a postgresql:// URL) if given, else the --index folder."""
    from .store import is_postgres_url

    if args.store:
        if not is_postgres_url(args.store):
            raise QAError(f"--store must be a postgresql:// URL, not '{args.store[:100]}'")
        return args.store
    return args.index


def reader_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--reader",
        choices=["trained", "heuristic"],
        default=os.environ.get("QA_READER", "trained"),
        help="answer picker: the trained span reader (default) or the rule-based one ($QA_READER)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Offline extractive question answering over your documents, with exact citations."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="build or update the index from a folder of documents",
                       description="Index .txt, .md, .html and .pdf files under FOLDER (recursively). "
                       "Incremental: unchanged files are skipped, changed ones re-embedded, deleted ones removed.")
    p.add_argument("folder", nargs="?", default=DEFAULT_CORPUS_DIR, help="documents folder (default: ./seeds)")
    _index_arg(p)
    p.add_argument("--rebuild", action="store_true", help="start over instead of updating")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer a question from the index",
                       description="Answer QUESTION with a verbatim span of a document and its citation. "
                       "QUESTION '-' reads one question per line from standard input; no QUESTION starts a prompt.")
    p.add_argument("question", nargs="?", help="the question, '-' for standard input")
    p.add_argument("-k", type=int, default=5, metavar="N", help="passages to read (default 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help="retrieval (default hybrid)")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.add_argument("--threshold", type=float, default=None, help="confidence below which the answer is 'not found'")
    reader_arg(p)
    _index_arg(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("stats", help="what the index holds", description="Documents, chunks, model and size on disk.")
    _index_arg(p)
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("train-reader", help="fine-tune the span reader on SQuAD-format data",
                       description="Fine-tune all-MiniLM-L6-v2 with a start/end head on SQuAD-format data "
                       "(GPU if present, else CPU); writes float16 safetensors and a model card.")
    from .train_reader import add_arguments as train_arguments

    train_arguments(p)
    p.set_defaults(func=cmd_train_reader)

    for extra in ("serve", "eval", "pgserver"):
        try:
            module = __import__(f"qa.cli_{extra}", fromlist=["register"])
        except ImportError:
            continue
        module.register(sub, _index_arg)
    return parser


# --- index ----------------------------------------------------------------------------------------------


def cmd_index(args) -> int:
    from .indexer import build_index
    from .store import open_index

    index = open_index(index_location(args))
    report = build_index(args.folder, index, rebuild=args.rebuild, progress=not args.quiet)
    for s in report.skipped:
        print(f"skipped {s.source}: {s.reason}", file=sys.stderr)
    print(f"index {index.describe()} from {args.folder}: {report.summary()}")
    return 0


# --- ask ------------------------------------------------------------------------------------------------


def _place(c) -> str:
    parts = [c.source]
    if c.page is not None:
        parts.append(f"page {c.page}")
    if c.section:
        parts.append(f"§ {c.section}")
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


def cmd_ask(args) -> int:
    from .pipeline import Answerer

    answerer = Answerer(index_location(args), reader=args.reader)
    if args.threshold is not None:
        answerer.threshold = args.threshold

    def one(question: str, keep_going: bool = True) -> int:
        try:
            answer = answerer.ask(question, k=args.k, mode=args.mode)
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


# --- train-reader ---------------------------------------------------------------------------------------


def cmd_train_reader(args) -> int:
    from .train_reader import run

    for path in (args.data, args.eval):
        if path and not os.path.isfile(path):
            raise QAError(f"file '{path}' does not exist")
    return run(args)


# --- stats ----------------------------------------------------------------------------------------------


def index_stats(location: str) -> dict:
    from .store import open_index

    index = open_index(location)
    store, manifest = index.open_metadata()
    try:
        docs = store.documents()
        return {
            "index": index.describe(),
            "store": index.kind,
            "generation": index.version_name(),
            "corpus": manifest.get("corpus"),
            "created": manifest.get("created"),
            "documents": len(docs),
            "chunks": store.n_chunks,
            "model": manifest["model"],
            "embed_dim": manifest["embed_dim"],
            "chunker": manifest["chunker"],
            "format_version": manifest["format_version"],
            "bytes_on_disk": index.disk_bytes(),
            "by_document": [{"source": d.source, "kind": d.kind, "chunks": d.chunks, "bytes": d.size,
                             "indexed_at": d.indexed_at} for d in docs],
        }
    finally:
        store.close()
        index.close()


def cmd_stats(args) -> int:
    stats = index_stats(index_location(args))
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"index:      {stats['index']} ({stats['store']} store, {stats['generation']}, built {stats['created']})")
    print(f"corpus:     {stats['corpus']}")
    print(f"documents:  {stats['documents']}")
    print(f"chunks:     {stats['chunks']}")
    print(f"model:      {stats['model']} ({stats['embed_dim']}-d)")
    c = stats["chunker"]
    print(f"chunker:    {c['max_tokens']} {c['encoding']} tokens, {c['overlap_tokens']} overlap, "
          f"<= {c['max_wordpieces']} word pieces")
    print(f"on disk:    {stats['bytes_on_disk'] / 1e6:.2f} MB")
    for d in stats["by_document"]:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(d["indexed_at"]))
        print(f"  {d['source']}  ({d['kind']}, {d['chunks']} chunks, {d['bytes']} bytes, indexed {when})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
