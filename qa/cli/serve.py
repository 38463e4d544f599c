"""``qa serve``: the browser chat (Gradio)."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path

from qa.cli.common import (
    docs_args,
    index_args,
    reader_arg,
    settings_from,
    threshold_arg,
)
from qa.cli.mcp import MCP_WRITE_HELP
from qa.errors import QAError
from qa.settings import ENV_SERVE_AUTH, Settings
from qa.wording import plural

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def register(sub, defaults: Settings) -> None:
    p = sub.add_parser(
        "serve", help="start the browser chat",
        description="Start the browser chat (a Gradio app): ask questions, see highlighted answers with "
        "their citations, upload and remove documents. Binds to 127.0.0.1 by default; any other address "
        "needs --auth USER:PASSWORD or an explicit --no-auth. Share links are never used.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    index_args(p, defaults)
    docs_args(p, defaults)
    p.add_argument("--auth", metavar="USER:PASSWORD", default=os.environ.get(ENV_SERVE_AUTH) or None,
                   help="require this login (default: $QA_SERVE_AUTH); MCP clients send it as HTTP Basic")
    p.add_argument("--no-auth", action="store_true", help="allow a non-loopback --host without a login")
    p.add_argument("--mcp", action="store_true",
                   help="also serve the tools of 'qa mcp' at /mcp (MCP streamable HTTP)")
    p.add_argument("--mcp-write", action="store_true", help=f"with --mcp: {MCP_WRITE_HELP}")
    threshold_arg(p)
    reader_arg(p, defaults)
    p.set_defaults(func=lambda args: run(args, settings_from(args, defaults)))


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise QAError("--auth must be USER:PASSWORD (both non-empty)")
    return user, password


def check_args(args) -> tuple[str, str] | None:
    """Refuse unsafe or impossible settings before loading anything; returns the login, if any."""
    auth = parse_auth(args.auth)
    if auth and args.no_auth:
        raise QAError("use either --auth or --no-auth, not both")
    if not is_loopback(args.host) and not auth and not args.no_auth:
        raise QAError(f"--host {args.host} makes the chat reachable from other machines: "
                      "add --auth USER:PASSWORD, or --no-auth if that is really intended")
    if not 0 < args.port < 65536:
        raise QAError(f"--port {args.port} is not a valid port")
    if args.max_upload_mb <= 0:
        raise QAError("--max-upload-mb must be positive")
    if args.mcp_write and not args.mcp:
        raise QAError("--mcp-write needs --mcp")
    return auth


def upload_settings(settings: Settings) -> Settings:
    """An accepted upload must not then be skipped by the indexer's own file-size limit."""
    if settings.max_file_mb and settings.max_upload_mb > settings.max_file_mb:
        return settings.with_(max_file_mb=settings.max_upload_mb)
    return settings


def corpus_folder(args, manifest: dict, default: str) -> Path:
    if args.docs is not None:
        folder = Path(args.docs)
    elif manifest.get("corpus") and Path(manifest["corpus"]).is_dir():
        folder = Path(manifest["corpus"])
    else:
        folder = Path(default)
    if not folder.is_dir():
        raise QAError(f"documents folder '{folder}' does not exist or is not a folder")
    return folder


def check_port_free(host: str, port: int) -> None:
    """Fail before loading the model when the address is already taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise QAError(f"--host {host}: {exc.strerror}") from exc
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as exc:
            raise QAError(f"cannot serve on {host}:{port}: {exc.strerror}; choose another --port") from exc


def run(args, settings: Settings) -> int:
    auth = check_args(args)
    from qa.index.store import open_index

    index = open_index(settings.location)
    if not index.exists():
        raise QAError(index.missing_message())
    if args.docs is not None and not Path(args.docs).is_dir():
        raise QAError(f"documents folder '{args.docs}' does not exist or is not a folder")
    check_port_free(args.host, args.port)
    from qa.answer.pipeline import Answerer

    print(f"loading the model and the index {index.describe()} ...", file=sys.stderr, flush=True)
    answerer = Answerer(index, settings=upload_settings(settings))
    docs = corpus_folder(args, answerer.manifest, settings.corpus)
    indexed_from = answerer.manifest.get("corpus")
    if indexed_from and Path(indexed_from).resolve() != docs.resolve():
        print(f"note: the index was built from {indexed_from}; the next upload or removal re-syncs it "
              f"with {docs}", file=sys.stderr)
    answerer.warm_up()

    from ui.app import build_app, launch
    from ui.service import Service

    service = Service(answerer, docs)
    demo = build_app(service)
    app_kwargs = None
    if args.mcp:
        from qa.mcp.server import HTTP_PATH, build_server, http_app_kwargs

        tools = build_server(lambda: service, writable=args.mcp_write)
        app_kwargs = http_app_kwargs(tools, host=args.host, auth=auth)
        print(f"MCP tools ({'read and write' if args.mcp_write else 'read-only'}) at "
              f"http://{args.host}:{args.port}{HTTP_PATH}", file=sys.stderr, flush=True)
    where = "loopback only" if is_loopback(args.host) else ("login required" if auth else "NO LOGIN")
    print(f"serving {plural(len(service.documents()), 'document')} from {docs} at http://{args.host}:{args.port} "
          f"({where}); Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        launch(demo, host=args.host, port=args.port, auth=auth, max_file_mb=args.max_upload_mb,
               app_kwargs=app_kwargs)
    except OSError as exc:
        raise QAError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return 0
