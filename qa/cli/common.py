"""Arguments shared by several ``qa`` commands, and how they become ``Settings``."""

from __future__ import annotations

import argparse

from qa.errors import QAError
from qa.settings import MODES, READERS, Settings


def index_args(p: argparse.ArgumentParser, defaults: Settings) -> None:
    """``--index DIR`` and ``--store URL``."""
    p.add_argument("--index", default=defaults.index, metavar="DIR",
                   help="index folder of the embedded store (default: $QA_INDEX or ./index)")
    p.add_argument("--store", default=defaults.store, metavar="URL",
                   help="keep the index in PostgreSQL + pgvector instead of --index, e.g. postgresql://user@host/db "
                   "(default: $QA_STORE)")


def docs_args(p: argparse.ArgumentParser, defaults: Settings) -> None:
    """``--docs FOLDER`` and ``--max-upload-mb``: where uploads go, and how large one may be."""
    p.add_argument("--docs", metavar="FOLDER", default=None,
                   help="documents folder that uploads go to and the index is built from "
                   "(default: the folder the index was built from, else ./seeds)")
    p.add_argument("--max-upload-mb", type=float, default=defaults.max_upload_mb, metavar="MB",
                   help=f"largest upload (default {defaults.max_upload_mb:g})")


def _passages(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 (off) or a number of passages")
    return n


def reader_arg(p: argparse.ArgumentParser, defaults: Settings) -> None:
    """``--reader`` and ``--rerank N``."""
    p.add_argument("--reader", choices=list(READERS), default=defaults.reader,
                   help="answer picker: the trained span reader (default) or the rule-based one ($QA_READER)")
    p.add_argument("--rerank", type=_passages, default=defaults.rerank, metavar="N",
                   help="reread the first N retrieved passages with the trained reader and put the one that answers "
                   f"first (slower: ~40 ms a passage on one thread; default {defaults.rerank}: off; $QA_RERANK)")


def mode_arg(p: argparse.ArgumentParser, defaults: Settings) -> None:
    p.add_argument("--mode", choices=list(MODES), default=defaults.mode, help=f"retrieval (default {defaults.mode})")


def threshold_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", type=float, default=None, metavar="T",
                   help="confidence below which the answer is 'not found' (default: the engine's)")


def check_store_url(url: str | None) -> str | None:
    from qa.index.store import is_postgres_url

    if url and not is_postgres_url(url):
        raise QAError(f"--store must be a postgresql:// URL, not '{url[:100]}'")
    return url


def settings_from(args, defaults: Settings) -> Settings:
    """The settings of one command: the defaults with whatever of these arguments it has."""
    fields = ("index", "store", "reader", "rerank", "mode", "k", "threshold", "max_upload_mb")
    changes = {f: getattr(args, f) for f in fields if hasattr(args, f)}
    check_store_url(changes.get("store"))
    return defaults.with_(**changes)
