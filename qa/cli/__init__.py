"""The ``qa`` command: one module per subcommand (index, ask, stats, serve, eval, train-reader, export-onnx,
pgserver), each with ``register(subparsers, defaults)``. Heavy libraries load inside the commands, so
``qa --help`` starts at once."""

from __future__ import annotations

import argparse
import logging
import sys

from qa.cli import ask, export, index, mcp, pgserver, serve, stats, train
from qa.cli import eval as eval_command
from qa.cli.ask import format_answer, printable
from qa.errors import QAError
from qa.settings import Settings

COMMANDS = (index, ask, stats, train, export, serve, mcp, eval_command, pgserver)

__all__ = ["build_parser", "format_answer", "main", "printable"]


def build_parser(defaults: Settings | None = None) -> argparse.ArgumentParser:
    defaults = defaults or Settings()
    parser = argparse.ArgumentParser(
        prog="qa", description="Offline extractive question answering over your documents, with exact citations."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub, defaults)
    return parser


class _StderrLines(logging.Handler):
    """Each record as one line on whatever ``sys.stderr`` is when it is emitted."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging's own convention
            self.handleError(record)


def _log_to_stderr() -> None:
    """The library reports through ``logging`` (logger ``qa``); the command shows those lines as they are."""
    log = logging.getLogger("qa")
    if any(isinstance(h, _StderrLines) for h in log.handlers):  # main() called again in one process
        return
    log.addHandler(_StderrLines())
    log.setLevel(logging.INFO)
    log.propagate = False


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser(Settings.from_env())
        args = parser.parse_args(argv)
        _log_to_stderr()
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
