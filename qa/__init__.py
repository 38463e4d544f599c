"""Offline, extractive question answering over your own documents, with exact citations.

    from qa import Answerer, build_index
    build_index("seeds", "index")
    answer = Answerer("index").ask("How much economic assistance has Japan provided to Ukraine?")
    print(answer.answer, answer.citations[0].source, answer.citations[0].start)

Names are imported on first use, so ``qa --help`` and the training script start without loading the
index libraries.
"""

from importlib import import_module

_EXPORTS = {
    "Answer": "results",
    "Citation": "results",
    "Passage": "results",
    "Answerer": "pipeline",
    "build_index": "indexer",
    "IndexReport": "indexer",
    "QAError": "errors",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
