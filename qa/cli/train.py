"""``qa train-reader``: fine-tune the span reader (the work is in ``qa.training.span_reader``)."""

from __future__ import annotations

import os

from qa.errors import QAError
from qa.settings import Settings


def register(sub, defaults: Settings) -> None:  # noqa: ARG001 - training reads no query settings
    from qa.training.span_reader import add_arguments

    p = sub.add_parser("train-reader", help="fine-tune the span reader on SQuAD-format data",
                       description="Fine-tune all-MiniLM-L6-v2 with a start/end head on SQuAD-format data "
                       "(GPU if present, else CPU); writes float16 safetensors and a model card.")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from qa.training.span_reader import run as train

    for path in (args.data, args.eval):
        if path and not os.path.isfile(path):
            raise QAError(f"file '{path}' does not exist")
    return train(args)
