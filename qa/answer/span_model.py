"""The trained span reader: all-MiniLM-L6-v2 fine-tuned on SQuAD v1.1 train (see qa/models/span-reader).

Given a question and a few short passages, it scores every (start, end) word-piece pair with its
start/end head and returns the best spans as character offsets into those passages. It runs on ONNX
Runtime from ``qa/models/onnx/span-reader.onnx`` (int8 weights, exported from the float16 safetensors
by ``qa export-onnx``); the torch weights are kept for training and for checking the export.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.inference.model_files import READER_DIR
from qa.inference.model_inputs import question_passages
from qa.inference.runners import make_runner
from qa.ingest.tokens import wordpiece_tokenizer

MODEL_DIR = READER_DIR
MAX_ANSWER_PIECES = 30
MAX_QUESTION_PIECES = 64
MAX_LEN = 256  # word pieces per window at question time (training used 384)


@dataclass
class Span:
    score: float  # start logit + end logit
    passage: int  # index of the passage it is in
    start: int  # character offsets in that passage
    end: int
    null_score: float = 0.0  # start + end logit of [CLS]: the window's "no answer here" score


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, offsets, max_answer: int = MAX_ANSWER_PIECES,
               top: int = 20) -> tuple[float, int | None, int | None]:
    """The best (score, char_start, char_end) of one window: start <= end, at most ``max_answer`` pieces.

    ``offsets[i]`` is the character range of word piece i in the passage, or None outside the passage.
    """
    found = ranked_spans(start_logits, end_logits, offsets, 1, max_answer, top)
    return found[0] if found else (-math.inf, None, None)


def ranked_spans(start_logits: np.ndarray, end_logits: np.ndarray, offsets, n: int,
                 max_answer: int = MAX_ANSWER_PIECES, top: int = 20) -> list[tuple[float, int, int]]:
    """The ``n`` best spans of one window that do not overlap one another, best first: (score, char_start,
    char_end), each start <= end and at most ``max_answer`` pieces (see ``best_spans``)."""
    pairs = []
    s_idx = np.argsort(start_logits)[::-1][:top]
    e_idx = np.argsort(end_logits)[::-1][:top]
    for s in s_idx:
        if offsets[s] is None:
            continue
        for e in e_idx:
            if offsets[e] is None or e < s or e - s + 1 > max_answer:
                continue
            pairs.append((float(start_logits[s] + end_logits[e]), int(s), int(e)))
    pairs.sort(key=lambda p: -p[0])
    chosen: list[tuple[float, int, int]] = []
    for score, s, e in pairs:
        if len(chosen) == n:
            break
        if all(e < s2 or e2 < s for _, s2, e2 in chosen):
            chosen.append((score, s, e))
    return [(score, offsets[s][0], offsets[e][1]) for score, s, e in chosen]


def available(path: Path = MODEL_DIR) -> bool:
    return (path / "model.safetensors").exists() and (path / "config.json").exists()


class SpanReader:
    """Loads once (lazily, thread-safe); ``spans`` is safe to call from several threads.

    ``backend``: "onnx" (default: the shipped int8 file) or "torch" (the weights in ``qa/models/span-reader``,
    int8 linear layers); ``threads``: intra-op threads per call (default ``Settings.threads``: one);
    ``weights``: another reader's torch weights (e.g. one just trained; implies torch).
    """

    def __init__(self, backend: str | None = None, threads: int | None = None, weights: Path | None = None) -> None:
        from qa.settings import Settings

        settings = Settings.from_env() if backend is None or threads is None else None
        self.backend = "torch" if weights is not None else backend or settings.backend
        self._runner = make_runner("span-reader", self.backend, threads or settings.threads or 1, weights)

    def prefetch(self) -> None:
        """Start loading the model in the background."""
        self._runner.prefetch()

    def spans(self, question: str, passages: list[str], per_passage: int = 1) -> list[Span]:
        """The best span of each passage (the ``per_passage`` best that do not overlap), best first."""
        if not passages:
            return []
        q = wordpiece_tokenizer().encode(question, add_special_tokens=False)
        if len(q.ids) > MAX_QUESTION_PIECES:  # keep room for the passage
            question = question[: q.offsets[MAX_QUESTION_PIECES - 1][1]]
        batch = question_passages(question, passages, MAX_LEN)
        feeds = batch.feeds()
        found = []
        # one passage per run, cut to its own length: padding a batch to its longest passage cost ~25% more
        # compute on one thread, and on one thread a batch runs no faster than its rows one by one
        for i, n in enumerate(batch.attention_mask.sum(axis=1)):
            out = self._runner.run({name: array[i : i + 1, :n] for name, array in feeds.items()})
            starts, ends = out["start_logits"][0], out["end_logits"][0]
            null = float(starts[0] + ends[0])
            found += [Span(score, i, a, b, null) for score, a, b in
                      ranked_spans(starts, ends, batch.offsets[i][:n], per_passage)]
        return sorted(found, key=lambda s: -s.score)
