"""Run a network on word-piece arrays: ONNX Runtime (default) or torch, with the same inputs and outputs.

Both take ``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64, [batch, length]) and return
float32 arrays by name: the embedder gives ``token_embeddings`` [batch, length, 384], the span reader
``start_logits`` and ``end_logits`` [batch, length]. The torch runner is kept for checking the ONNX
files against the weights they came from (``QA_BACKEND=torch``, the parity tests); only it imports
torch and transformers.

Threads: each call runs on ``threads`` intra-op threads (default one). With one thread ONNX Runtime
computes on the calling thread and releases the GIL, so several Python threads share one session and
use one core each: that is how ``qa index`` fills every core, and why a busy core does not make a
question wait for a thread pool.
"""

from __future__ import annotations

import atexit
import os
import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.inference.model_files import MODELS_DIR, READER_DIR, onnx_model
from qa.settings import BACKENDS

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = {"embedder": ("token_embeddings",), "span-reader": ("start_logits", "end_logits")}


class OnnxRunner:
    """One InferenceSession, made at the first call (thread-safe); ``run`` may be called from many threads."""

    def __init__(self, network: str, threads: int = 1, folder: Path | None = None) -> None:
        self.network = network
        self.threads = threads
        self.folder = folder
        self._future: Future | None = None  # the session, or why it could not be made
        self._lock = threading.Lock()

    def prefetch(self) -> None:
        """Start making the session in the background (checking the file's hash, optimising the graph),
        so it is ready, or nearly, when the first question needs it. A process that ends meanwhile (a
        mistyped question) waits for it: ONNX Runtime aborts if the interpreter goes while it loads."""
        with self._lock:
            if self._future is None:
                self._future = future = Future()
                threading.Thread(target=self._fill, args=(future,), name=f"load-{self.network}", daemon=True).start()
                atexit.register(future.exception)  # waits for the load to end, whatever its outcome

    def _fill(self, future: Future) -> None:
        try:
            future.set_result(self._load())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the session
            future.set_exception(exc)

    @property
    def session(self):
        future = self._future
        if future is None:
            with self._lock:
                if self._future is None:
                    self._future = Future()
                    self._fill(self._future)
                future = self._future
        return future.result()

    def _load(self):
        import onnxruntime as ort

        path = onnx_model(self.network) if self.folder is None else onnx_model(self.network, self.folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # warnings about unused initializers are not the user's business
        if self.threads > 1:  # spinning threads steal the core that other work (or another question) needs
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise QAError(f"cannot load {path.name} with ONNX Runtime ({exc})") from None

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = OUTPUTS[self.network]
        return dict(zip(names, self.session.run(list(names), feeds)))


class TorchRunner:
    """The same network from the torch weights (the embedder's package, ``qa/models/span-reader``)."""

    def __init__(self, network: str, threads: int = 1, quantize: bool = True, weights: Path | None = None) -> None:
        self.network = network
        self.threads = threads
        self.quantize = quantize
        self.weights = weights  # another span reader's folder (e.g. one just trained)
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        # Nothing is fetched, and nothing written outside the index: torch otherwise makes
        # $TMPDIR/torchinductor_$USER when imported unless this names an existing folder (qa compiles nothing)
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(MODELS_DIR))
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
            os.environ.setdefault(name, "1")
        try:
            import torch
            import transformers
        except ImportError:
            raise QAError("the torch backend needs torch and transformers: pip install 'qa-docs[torch]'") from None
        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        torch.set_num_threads(self.threads)
        if self.network == "embedder":
            from qa.inference.model_files import embedder_weights

            return transformers.AutoModel.from_pretrained(str(embedder_weights()), dtype=torch.float32).eval()
        model = transformers.AutoModelForQuestionAnswering.from_pretrained(
            str(self.weights or READER_DIR), dtype=torch.float32).eval()
        if self.quantize:  # what the reader ran as before ONNX: int8 linear layers
            import warnings

            with warnings.catch_warnings():  # torch marks its int8 helpers as deprecated; they still work
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return model

    def prefetch(self) -> None:
        """Nothing: the torch path is for checks, loaded when first used."""

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        import torch

        with torch.inference_mode():
            out = self._model(**{k: torch.from_numpy(v) for k, v in feeds.items()})
        if self.network == "embedder":
            return {"token_embeddings": out.last_hidden_state.float().numpy()}
        return {"start_logits": out.start_logits.float().numpy(), "end_logits": out.end_logits.float().numpy()}


def make_runner(network: str, backend: str = "onnx", threads: int = 1, weights: Path | None = None):
    """``weights``: torch weights to run instead of the shipped ones (torch backend only)."""
    if backend == "onnx" and weights is None:
        return OnnxRunner(network, threads)
    if backend == "torch" or weights is not None:
        return TorchRunner(network, threads, weights=weights)
    raise QAError(f"unknown backend '{backend}'; choose one of: {', '.join(BACKENDS)}")
