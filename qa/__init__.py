"""Offline, extractive question answering over your own documents, with exact citations.

    from qa import Answerer, build_index
    build_index("seeds", "index")
    answer = Answerer("index").ask("How much economic assistance has Japan provided to Ukraine?")
    print(answer.answer, answer.citations[0].source, answer.citations[0].start)

Names are imported on first use, so ``qa --help`` and the training script start without loading the
index libraries. The code follows the data: ``qa.ingest`` (files to chunks), ``qa.index`` (chunks to
a store), ``qa.answer`` (a question to a cited answer), ``qa.evaluation``, ``qa.training``, ``qa.cli``;
docs/ARCHITECTURE.md draws it.
"""

import os
from importlib import import_module

# ONNX Runtime (the models, and OCR) otherwise writes a device id under ~/.cache/Microsoft and a telemetry
# session file in $TMPDIR, and queues usage events: an offline tool sends nothing and writes only where
# it is asked to
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

_EXPORTS = {
    "Answer": "answer.results",
    "Citation": "answer.results",
    "Passage": "answer.results",
    "Answerer": "answer.pipeline",
    "build_index": "index.indexer",
    "IndexReport": "index.indexer",
    "open_index": "index.store",
    "QAError": "errors",
    "Settings": "settings",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
