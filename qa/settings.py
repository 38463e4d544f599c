"""Query-time settings: one object, read by the CLI, the chat and the evaluation alike.

Settings that shape the index (model, chunk sizes) live in ``qa.config`` and are recorded in each
index's manifest; these only change how questions are asked and files are accepted, so changing them
never makes an index stale. The environment is read here and nowhere else (``Settings.from_env``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from qa.config import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR
from qa.errors import QAError

MODES = ("hybrid", "dense", "bm25")  # retrieval: both retrievers fused, vectors only, BM25 only
READERS = ("trained", "heuristic")  # the trained span reader, or rules over the best sentence
MAX_K = 50  # passages read per question, at most, when people choose (the chat's slider and service, the MCP tool)
BACKENDS = ("onnx", "torch")  # what runs the networks: the shipped ONNX files, or the torch weights (checks)

ENV_INDEX = "QA_INDEX"
ENV_STORE = "QA_STORE"
ENV_READER = "QA_READER"
ENV_THREADS = "QA_THREADS"
ENV_BACKEND = "QA_BACKEND"
ENV_MAX_FILE_MB = "QA_MAX_FILE_MB"
ENV_FUSION = "QA_FUSION"  # e.g. "rrf", or "minmax:0.45" (a score fusion and its dense weight)
ENV_SERVE_AUTH = "QA_SERVE_AUTH"
ENV_RERANK = "QA_RERANK"  # passages the span reader rereads to rerank them (0: off)
ENV_SENTENCE_RESCORE = "QA_SENTENCE_RESCORE"  # fused candidates rescored by their best sentence (0: off)

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Defaults for asking and indexing; every field can be overridden per call or per command."""

    index: str = DEFAULT_INDEX_DIR  # folder of the embedded store
    store: str | None = None  # a postgresql:// URL instead of ``index``
    corpus: str = DEFAULT_CORPUS_DIR  # documents folder
    k: int = 20  # passages read per question (their best sentences are what the span reader reads)
    n_passages: int = 20  # passages ranked (recall@k in ``qa eval``)
    mode: str = "hybrid"
    reader: str = "trained"
    # confidence below which the answer is "not found": the lowest at which at least 80% of the answers
    # given on product reviews (squadshifts-amazon) were right with the reader trained with negatives
    # (docs/BENCHMARKS.md, "A reader that says no": 0.55 gave 77%, 0.6 gives 82%)
    threshold: float = 0.6
    depth: int = 100  # candidates taken from each retriever before fusion
    # how hybrid mode fuses the two rankings: "rrf" (reciprocal rank fusion) or a score fusion of
    # qa.answer.fusion; min-max with 0.45 on the dense side never fell below the better single retriever
    # on SQuAD train, squadshifts-amazon or PolicyQA (bench/fusion.py; docs/BENCHMARKS.md, Fusion)
    fusion: str = "minmax"
    fusion_weight: float = 0.45  # the dense side's weight in a score fusion
    # then the first N fused candidates are rescored with the cosine of their best sentence to the
    # question (qa.answer.fusion.sentence_rescore; score fusions only; 0: off): recall@5 +0.5 to +1.3
    # points on SQuAD, reviews, privacy policies and SQuAD 2.0 (docs/BENCHMARKS.md, "Best sentence in the fusion")
    sentence_rescore: int = 30
    # the first N candidates reread whole by the span reader and reordered (qa.answer.reranker); 0: off.
    # Off by default: it costs the reader's time per passage (docs/BENCHMARKS.md, "Reranking")
    rerank: int = 0
    max_file_mb: float = 20.0  # larger files are skipped by ``qa index`` (0: no limit)
    max_upload_mb: float = 20.0  # largest upload in the chat
    threads: int | None = None  # threads per question for the models (None: one, safe when the CPU is shared)
    backend: str = "onnx"  # ONNX Runtime; "torch" runs the torch weights instead (needs the torch extra)

    def __post_init__(self) -> None:
        check_mode(self.mode)
        check_reader(self.reader)
        if self.k < 1:
            raise QAError("k must be at least 1")
        if not self.max_file_mb >= 0 or self.max_file_mb == float("inf"):
            raise QAError(f"the file size limit must be a number of megabytes (0 for no limit), not {self.max_file_mb}")
        from qa.answer.fusion import FUSIONS

        if self.fusion not in ("rrf", *FUSIONS):
            raise QAError(f"unknown fusion '{self.fusion}'; choose one of: rrf, {', '.join(FUSIONS)}")
        if not 0.0 <= self.fusion_weight <= 1.0:
            raise QAError(f"the fusion weight must be between 0 and 1, not {self.fusion_weight}")
        if self.backend not in BACKENDS:
            raise QAError(f"unknown backend '{self.backend}'; choose one of: {', '.join(BACKENDS)}")
        if self.rerank < 0:
            raise QAError(f"rerank must be a number of passages (0: off), not {self.rerank}")
        if self.sentence_rescore < 0:
            raise QAError(f"sentence rescoring must be a number of passages (0: off), not {self.sentence_rescore}")
        if self.threads is not None and self.threads < 1:
            raise QAError(f"threads must be at least 1, not {self.threads}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides) -> Settings:
        """Defaults, then ``QA_INDEX``, ``QA_STORE``, ``QA_READER``, ``QA_THREADS``, ``QA_BACKEND``,
        ``QA_FUSION``, ``QA_SENTENCE_RESCORE``, ``QA_RERANK`` and ``QA_MAX_FILE_MB``, then ``overrides`` (None values are ignored)."""
        values: dict = {}
        if environ.get(ENV_INDEX):
            values["index"] = environ[ENV_INDEX]
        if environ.get(ENV_STORE):
            values["store"] = environ[ENV_STORE]
        if environ.get(ENV_READER):
            values["reader"] = check_reader(environ[ENV_READER].strip(), ENV_READER)
        if environ.get(ENV_THREADS, "").strip():
            values["threads"] = _number(environ[ENV_THREADS], ENV_THREADS, "a number of threads", int)
        if environ.get(ENV_BACKEND, "").strip():
            values["backend"] = environ[ENV_BACKEND].strip()
        if environ.get(ENV_FUSION, "").strip():
            method, _, weight = environ[ENV_FUSION].strip().partition(":")
            values["fusion"] = method
            if weight:
                values["fusion_weight"] = _number(weight, ENV_FUSION, "METHOD or METHOD:WEIGHT")
        if environ.get(ENV_SENTENCE_RESCORE, "").strip():
            values["sentence_rescore"] = _number(environ[ENV_SENTENCE_RESCORE], ENV_SENTENCE_RESCORE,
                                                 "a number of passages", int)
        if environ.get(ENV_RERANK, "").strip():
            values["rerank"] = _number(environ[ENV_RERANK], ENV_RERANK, "a number of passages", int)
        if environ.get(ENV_MAX_FILE_MB, "").strip():
            values["max_file_mb"] = _megabytes(environ[ENV_MAX_FILE_MB])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> Settings:
        """A copy with these fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def location(self) -> str:
        """Where the index lives: the PostgreSQL URL if one is set, else the folder."""
        return self.store or self.index

    @property
    def max_file_bytes(self) -> int | None:
        return int(self.max_file_mb * MB) if self.max_file_mb else None


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise QAError(f"unknown mode '{mode}'; choose one of: {', '.join(MODES)}")
    return mode


def check_reader(reader: str, what: str = "reader") -> str:
    if reader not in READERS:
        raise QAError(f"unknown {what} '{reader}'; choose one of: {', '.join(READERS)}")
    return reader


def _number(raw: str, name: str, what: str, kind=float):
    try:
        return kind(raw.strip())
    except ValueError:
        raise QAError(f"{name} must be {what}, not '{raw.strip()}'") from None


def _megabytes(raw: str) -> float:
    try:
        mb = float(raw.strip())
    except ValueError:
        mb = -1.0
    if not mb >= 0 or mb == float("inf"):
        raise QAError(f"{ENV_MAX_FILE_MB} must be a number of megabytes (0 for no limit), not '{raw.strip()}'")
    return mb
