"""``qa index``: bring an index up to date with a folder of documents."""

from __future__ import annotations

import sys

from qa.cli.common import index_args, settings_from
from qa.settings import Settings


def register(sub, defaults: Settings) -> None:
    p = sub.add_parser("index", help="build or update the index from a folder of documents",
                       description="Index .txt, .md, .html and .pdf files under FOLDER (recursively). "
                       "Incremental: unchanged files are skipped, changed ones re-embedded, deleted ones removed.")
    p.add_argument("folder", nargs="?", default=defaults.corpus, help="documents folder (default: ./seeds)")
    index_args(p, defaults)
    p.add_argument("--rebuild", action="store_true", help="start over instead of updating")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=lambda args: run(args, settings_from(args, defaults)))


def run(args, settings: Settings) -> int:
    from qa.index.indexer import build_index
    from qa.index.store import open_index

    index = open_index(settings.location)
    report = build_index(args.folder, index, rebuild=args.rebuild, progress=not args.quiet,
                         max_file_mb=settings.max_file_mb)
    for s in report.skipped:
        print(f"skipped {s.source}: {s.reason}", file=sys.stderr)
    for s in report.skipped_pages:  # the rest of the file is indexed
        print(f"skipped {s.source}, {s.reason}", file=sys.stderr)
    print(f"index {index.describe()} from {args.folder}: {report.summary()}")
    return 0
