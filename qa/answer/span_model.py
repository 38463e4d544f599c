"""The trained span reader: all-MiniLM-L6-v2 fine-tuned on SQuAD v1.1 train (see qa/models/span-reader).

Given a question and a few short passages, it scores every (start, end) word-piece pair with its
start/end head and returns the best spans as character offsets into those passages. The weights ship
in the package (float16 safetensors, 45 MB); on the CPU they run in float32, with the linear layers
quantized to int8 (``torch.ao.quantization.quantize_dynamic``) for speed.
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "span-reader"
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
    best = (-math.inf, None, None)
    s_idx = np.argsort(start_logits)[::-1][:top]
    e_idx = np.argsort(end_logits)[::-1][:top]
    for s in s_idx:
        if offsets[s] is None:
            continue
        for e in e_idx:
            if offsets[e] is None or e < s or e - s + 1 > max_answer:
                continue
            score = start_logits[s] + end_logits[e]
            if score > best[0]:
                best = (float(score), offsets[s][0], offsets[e][1])
    return best


def available(path: Path = MODEL_DIR) -> bool:
    return (path / "model.safetensors").exists() and (path / "config.json").exists()


class SpanReader:
    """Loads once (lazily, thread-safe); ``spans`` is safe to call from several threads."""

    def __init__(self, path: Path = MODEL_DIR, quantize: bool = True) -> None:
        self.path = Path(path)
        self.quantize = quantize
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()
        # The fast tokenizer keeps its padding / truncation settings between calls: a question-only call in
        # another thread between configuring and encoding a batch would leave the batch unpadded.
        self._tokenize = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            import torch
            import transformers
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer

            from qa.ingest.tokens import model_path

            transformers.utils.logging.set_verbosity_error()
            transformers.utils.logging.disable_progress_bar()
            model = AutoModelForQuestionAnswering.from_pretrained(str(self.path), dtype=torch.float32).eval()
            if self.quantize:
                with warnings.catch_warnings():  # torch marks its int8 helpers as deprecated; they still work
                    warnings.simplefilter("ignore")
                    model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            self._tokenizer = AutoTokenizer.from_pretrained(str(model_path()))  # the base model's vocabulary
            self._model = model

    def spans(self, question: str, passages: list[str]) -> list[Span]:
        """The best span of each passage, best first."""
        if not passages:
            return []
        if self._model is None:
            self._load()
        import torch

        with self._tokenize:  # the model runs outside it, so questions still read in parallel
            q = self._tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
            if len(q["input_ids"]) > MAX_QUESTION_PIECES:  # keep room for the passage
                question = question[: q["offset_mapping"][MAX_QUESTION_PIECES - 1][1]]
            enc = self._tokenizer([question] * len(passages), passages, truncation="only_second",
                                  max_length=MAX_LEN, padding=True, return_offsets_mapping=True, return_tensors="pt")
        offsets = enc.pop("offset_mapping").tolist()
        with torch.inference_mode():
            out = self._model(**enc)
        starts, ends = out.start_logits.numpy(), out.end_logits.numpy()
        found = []
        for i in range(len(passages)):
            seq = enc.sequence_ids(i)
            offs = [tuple(o) if seq[j] == 1 else None for j, o in enumerate(offsets[i])]
            score, a, b = best_spans(starts[i], ends[i], offs)
            if a is not None:
                found.append(Span(score, i, a, b, float(starts[i][0] + ends[i][0])))
        return sorted(found, key=lambda s: -s.score)
