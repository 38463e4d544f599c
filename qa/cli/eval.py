"""``qa eval``: score the engine on a SQuAD-format file."""

from __future__ import annotations

import argparse
import json
import sys

from qa.cli.common import check_store_url, reader_arg, threshold_arg
from qa.errors import QAError
from qa.settings import Settings


def _modes(value: str) -> list[str]:
    from qa.evaluation.harness import parse_modes

    try:
        return parse_modes(value)
    except QAError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def register(sub, defaults: Settings) -> None:
    p = sub.add_parser(
        "eval",
        help="measure answer quality and speed on a SQuAD-format file",
        description="Write each article of DATA (SQuAD v1.1 or v2.0 JSON, plain or .gz) as one document, index "
        "them into a scratch index, ask every question and report retrieval recall@1/5/20, exact match and F1, "
        "sentence and citation accuracy (and 'not found' precision / recall for SQuAD 2.0), warm latency and "
        "index build speed. Rates are fractions in [0, 1]; definitions in docs/BENCHMARKS.md.",
    )
    p.add_argument("data", help="SQuAD-format JSON file (.json or .json.gz)")
    p.add_argument("--mode", type=_modes, default=["hybrid"], metavar="MODE",
                   help="dense, bm25, hybrid (default), a comma list, or all; several modes share one index")
    p.add_argument("--limit", type=_positive, default=None, metavar="N", help="a random subset of N questions")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the random subset (default 0)")
    p.add_argument("-k", type=_positive, default=defaults.k, metavar="N",
                   help=f"passages the reader reads (default {defaults.k})")
    p.add_argument("--passages", type=_positive, default=defaults.n_passages, metavar="N",
                   help=f"passages ranked for recall@k (default {defaults.n_passages})")
    threshold_arg(p)
    reader_arg(p, defaults)
    p.add_argument("--layout", choices=["article", "paragraph"], default="article",
                   help="one document per article (default) or per paragraph (as the yardsticks)")
    p.add_argument("--scope", choices=["article"], default=None,
                   help="ask each question of its own article's document only (questions written for one "
                   "document, such as privacy policies)")
    p.add_argument("--index-dir", default=None, metavar="DIR",
                   help="keep the scratch corpus and index in DIR and reuse them on the next run")
    p.add_argument("--store", default=defaults.store, metavar="URL",
                   help="index into this PostgreSQL database (postgresql://...; its qa tables are replaced by the "
                   "data set) instead of the scratch folder (default: $QA_STORE)")
    p.add_argument("--keep", action="store_true", help="keep the temporary scratch folder (its path goes to stderr)")
    p.add_argument("--details", default=None, metavar="FILE", help="also write one JSON line per question to FILE")
    p.add_argument("--json", action="store_true",
                   help="print exactly one JSON object on stdout (the table goes to stderr)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=lambda args: run(args, defaults))


def run(args, defaults: Settings) -> int:
    from qa.evaluation.harness import format_table, run_eval

    settings = defaults.with_(store=check_store_url(args.store), reader=args.reader, rerank=args.rerank,
                              threshold=args.threshold,
                              k=args.k, n_passages=args.passages)
    result = run_eval(
        args.data, modes=args.mode, limit=args.limit, seed=args.seed, settings=settings, index_dir=args.index_dir,
        keep=args.keep, layout=args.layout, scope=args.scope, progress=not args.quiet, details=args.details,
    )
    table = format_table(result)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(table)
    return 0
