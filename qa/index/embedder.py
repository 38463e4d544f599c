"""The embedder: all-MiniLM-L6-v2 (384-dim), run on ONNX Runtime from the shipped int8 file.

One forward pass per chunk gives both the chunk vector and a vector for each of its sentences: the model
mean-pools its token vectors, so pooling only a sentence's tokens gives that sentence's vector in the
context of its chunk, at no extra cost. The reader uses these to pick sentences without running the
model at question time.

Threads: a question is encoded on one thread by default (``threads``), so answering stays fast when
other work shares the CPU. Building an index runs ``workers`` batches at once (default: one per core),
each on one thread, which encodes more per second than one batch on several threads.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qa.config import EMBED_DIM, MODEL_WINDOW
from qa.inference.model_inputs import single_texts
from qa.inference.runners import make_runner

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _normalize(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-12)


class Embedder:
    """Loads the model once (lazily, thread-safe) and encodes questions and chunks."""

    batch_size = 32

    def __init__(self, threads: int | None = None, workers: int | None = None, backend: str | None = None) -> None:
        """``threads``: intra-op threads per batch (default ``Settings.threads``: one). ``workers``: batches
        encoded at once when building (default: one per core). ``backend``: "onnx" (default) or "torch"."""
        from qa.settings import Settings

        settings = Settings.from_env() if threads is None or backend is None else None
        self.threads = threads or settings.threads or 1
        self.workers = workers or usable_cores()
        self.backend = backend or settings.backend
        self._runner = make_runner("embedder", self.backend, self.threads)
        self._lock = threading.Lock()

    def with_workers(self, workers: int) -> Embedder:
        """The same loaded model, building with ``workers`` batches at once (e.g. leaving a core to questions)."""
        other = copy.copy(self)
        other.workers = max(1, workers)
        return other

    def prefetch(self) -> None:
        """Start loading the model in the background."""
        self._runner.prefetch()

    def load(self) -> None:
        """Load the model now rather than at the first call."""
        self.encode_queries(["warm up"])

    def _token_vectors(self, texts: Sequence[str]):
        """Word pieces of ``texts`` (cut to the model window) and the model's vector for each piece."""
        batch = single_texts(list(texts), MODEL_WINDOW)
        return batch, self._runner.run(batch.feeds())["token_embeddings"]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBED_DIM), dtype=np.float32)
        batch, tokens = self._token_vectors(texts)
        mask = batch.attention_mask
        pooled = (tokens * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return _normalize(pooled.astype(np.float32))

    def encode_chunks(
        self,
        texts: Sequence[str],
        sentence_spans: Sequence[Sequence[tuple[int, int]]],
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors of chunks, and of each chunk's sentences (spans relative to the chunk text).

        Returns ``(chunk_vectors [n, 384], [sentence_vectors [m_i, 384], ...])``, all L2-normalized.
        """
        n = len(texts)
        chunk_vecs = np.zeros((n, EMBED_DIM), dtype=np.float32)
        sent_vecs: list[np.ndarray] = [np.zeros((0, EMBED_DIM), dtype=np.float32)] * n
        order = sorted(range(n), key=lambda i: len(texts[i]), reverse=True)  # similar lengths pad little
        batches = [order[b : b + self.batch_size] for b in range(0, n, self.batch_size)]

        def encode(idx: list[int]) -> None:
            batch, tokens = self._token_vectors([texts[i] for i in idx])
            for row, i in enumerate(idx):
                if batch.truncated[row]:
                    raise RuntimeError("chunk longer than the model window; the chunker should prevent this")
                chunk_vecs[i] = tokens[row][batch.attention_mask[row].astype(bool)].mean(axis=0)
                sent_vecs[i] = _pool_sentences(tokens[row], batch.offsets[row], sentence_spans[i])
            if progress:
                with self._lock:
                    progress(len(idx))

        if self.workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="embed") as pool:
                for _ in pool.map(encode, batches):
                    pass
        else:
            for idx in batches:
                encode(idx)
        return _normalize(chunk_vecs), sent_vecs


def _pool_sentences(tokens: np.ndarray, offsets, spans) -> np.ndarray:
    """Mean of each sentence's piece vectors (``offsets``: each piece's characters, None for [CLS], [SEP]
    and padding)."""
    starts = np.array([-1 if o is None else o[0] for o in offsets])
    regular = np.array([o is not None for o in offsets])
    vecs = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for j, (a, b) in enumerate(spans):
        mask = regular & (starts >= a) & (starts < b)
        if mask.any():
            vecs[j] = tokens[mask].mean(axis=0)
    return _normalize(vecs)
