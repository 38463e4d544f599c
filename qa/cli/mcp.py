"""``qa mcp``: the index as tools for an AI assistant (ask, list_documents, read), over MCP's stdio transport.

A desktop assistant starts this command and talks to it over stdin/stdout. The protocol is served at
once and the model and index load in the background, so the handshake is not kept waiting; a missing
index is an error on each tool call (the server keeps running, and picks up the index once ``qa index``
has built it).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from qa.cli.common import docs_args, index_args, mode_arg, reader_arg, settings_from, threshold_arg
from qa.errors import QAError
from qa.settings import Settings

log = logging.getLogger("qa.mcp")

MCP_WRITE_HELP = "also offer the tools upload and remove, which change the documents folder and the index"


def register(sub, defaults: Settings) -> None:
    p = sub.add_parser(
        "mcp", help="serve the index to AI assistants (Model Context Protocol, stdio)",
        description="Serve the index to an AI assistant over the Model Context Protocol on stdin/stdout: "
        "tools ask, list_documents and read (upload and remove with --mcp-write). For a desktop assistant's "
        "configuration; 'qa serve --mcp' serves the same tools over HTTP.",
    )
    index_args(p, defaults)
    docs_args(p, defaults)
    p.add_argument("--mcp-write", action="store_true", help=MCP_WRITE_HELP)
    mode_arg(p, defaults)
    threshold_arg(p)
    reader_arg(p, defaults)
    p.set_defaults(func=lambda args: run(args, settings_from(args, defaults)))


class ServiceLoader:
    """The chat's ``Service`` (model and index loaded once), made on first need; until then each call
    waits for it, and while there is no index each call fails with the one-line reason."""

    def __init__(self, args, settings: Settings) -> None:
        self.args, self.settings = args, settings
        self._service = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Load in the background now, so the first question does not wait for the whole load."""
        threading.Thread(target=self._load_quietly, name="qa-mcp-load", daemon=True).start()

    def _load_quietly(self) -> None:
        try:
            self()
        except QAError as exc:
            log.warning("qa mcp: %s (each tool call will say so until it is fixed)", exc)

    def __call__(self):
        with self._lock:
            if self._service is None:
                self._service = self._load()
            return self._service

    def _load(self):
        from qa.index.store import open_index

        index = open_index(self.settings.location)
        if not index.exists():  # before loading anything heavy: this check runs again at every call
            raise QAError(index.missing_message())
        from qa.answer.pipeline import Answerer
        from qa.cli.serve import corpus_folder, upload_settings
        from ui.service import Service

        log.info("qa mcp: loading the model and the index %s ...", index.describe())
        answerer = Answerer(index, settings=upload_settings(self.settings))
        answerer.warm_up()
        if self.args.mcp_write:
            docs = corpus_folder(self.args, answerer.manifest, self.settings.corpus)
        else:  # never written to
            docs = Path(answerer.manifest.get("corpus") or self.settings.corpus)
        service = Service(answerer, docs)
        log.info("qa mcp: ready, %d documents%s", len(service.documents()),
                 f"; uploads go to {docs}" if self.args.mcp_write else "")
        return service


def run(args, settings: Settings) -> int:
    if args.max_upload_mb <= 0:
        raise QAError("--max-upload-mb must be positive")
    if args.docs is not None and not Path(args.docs).is_dir():
        raise QAError(f"documents folder '{args.docs}' does not exist or is not a folder")
    import anyio

    from qa.mcp.server import build_server, serve_stdio

    loader = ServiceLoader(args, settings)
    server = build_server(loader, writable=args.mcp_write)
    anyio.run(serve_stdio, server, loader.start)
    return 0
