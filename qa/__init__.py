"""Offline, extractive question answering over your own documents, with exact citations.

    from qa import Answerer, build_index
    build_index("seeds", "index")
    answer = Answerer("index").ask("How much economic assistance has Japan provided to Ukraine?")
    print(answer.answer, answer.citations[0].source, answer.citations[0].start)
"""

from .errors import QAError
from .indexer import IndexReport, build_index
from .pipeline import Answerer
from .results import Answer, Citation, Passage

__all__ = ["Answer", "Answerer", "Citation", "IndexReport", "Passage", "QAError", "build_index"]
__version__ = "0.1.0"
