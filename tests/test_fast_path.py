"""The fast path: the question path runs on ONNX Runtime from the shipped files, gives what the torch
weights give, imports no torch, and loads no model where none is needed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from qa.errors import QAError
from qa.evaluation.metrics import f1
from qa.evaluation.squad import load_squad
from qa.inference import model_files

from .conftest import JAPAN_Q, ROOT, SEEDS

SLICE = ROOT / "tests" / "data" / "squad-v1.1-dev-slice.json"
HEAVY = ("torch", "transformers", "sentence_transformers")


@pytest.fixture(scope="module")
def questions():
    return load_squad(SLICE).questions


# --- the shipped files -------------------------------------------------------------------------------


def test_the_shipped_onnx_files_were_made_from_the_current_weights():
    """``qa export-onnx`` must be rerun when the span reader is retrained: the manifest names the weights."""
    manifest = model_files.manifest()
    reader = model_files.MODELS_DIR / "span-reader" / "model.safetensors"
    assert manifest["sources"]["span-reader"]["sha256"] == model_files.sha256_of(reader)
    embedder = model_files.embedder_weights() / "model.safetensors"
    assert manifest["sources"]["embedder"]["sha256"] == model_files.sha256_of(embedder)
    for name, entry in manifest["files"].items():
        assert model_files.verified(name) == model_files.ONNX_DIR / name
        assert (model_files.ONNX_DIR / name).stat().st_size == entry["bytes"]


def test_a_damaged_or_missing_model_file_is_refused_with_a_message(tmp_path):
    folder = tmp_path / "onnx"
    shutil.copytree(model_files.ONNX_DIR, folder)
    data = bytearray((folder / "span-reader.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "span-reader.onnx").write_bytes(bytes(data))
    with pytest.raises(QAError, match="damaged or out of date"):
        model_files.onnx_model("span-reader", folder)
    assert model_files.onnx_model("embedder", folder) == folder / "embedder.onnx"  # the others still load
    (folder / "embedder.onnx").unlink()
    with pytest.raises(QAError, match="cannot read model file"):
        model_files.onnx_model("embedder", folder)


# --- parity with the torch weights ---------------------------------------------------------------------


def test_query_vectors_match_the_sentence_transformers_model(questions):
    from sentence_transformers import SentenceTransformer

    from qa.index.embedder import Embedder

    paragraphs = list(dict.fromkeys(q.paragraph.context for q in questions))
    texts = [q.question for q in questions[:40]] + paragraphs[:10]
    reference = SentenceTransformer(str(model_files.embedder_weights()), device="cpu")
    reference.max_seq_length = 256
    expected = reference.encode(texts, normalize_embeddings=True)
    got = Embedder(backend="onnx").encode_queries(texts)
    cosine = (expected * got).sum(axis=1)
    assert cosine.min() >= 0.99, cosine.min()
    torch_path = Embedder(backend="torch").encode_queries(texts)
    assert (expected * torch_path).sum(axis=1).min() > 0.9999  # the torch runner is the model itself


def test_reader_spans_match_the_torch_weights(questions):
    """On a fixed set of SQuAD questions, each read with its own paragraph, the int8 ONNX reader quotes the
    span the float weights quote for most questions, and is about as good against the gold answers (on
    the slice's 99 questions: 85 the same, F1 0.819 against 0.839; torch's own int8 reader, used before
    ONNX: 78 the same, F1 0.803)."""
    from qa.answer.span_model import SpanReader
    from qa.inference.runners import TorchRunner

    onnx, weights = SpanReader(backend="onnx"), SpanReader(backend="torch")
    weights._runner = TorchRunner("span-reader", quantize=False)  # the float model itself
    same, f1_onnx, f1_weights = 0, 0.0, 0.0
    subset = questions[:60]
    for q in subset:
        text = q.paragraph.context
        a, b = onnx.spans(q.question, [text])[0], weights.spans(q.question, [text])[0]
        same += (a.start, a.end) == (b.start, b.end)
        f1_onnx += f1(text[a.start:a.end], q.answers)
        f1_weights += f1(text[b.start:b.end], q.answers)
    assert same >= 0.8 * len(subset), same
    assert (f1_weights - f1_onnx) / len(subset) <= 0.04, (f1_onnx, f1_weights)


def test_building_with_one_or_several_workers_gives_the_same_vectors():
    from qa.index.embedder import Embedder

    texts = [f"Sentence number {i} of a chunk. It has a second sentence about topic {i % 7}." * (1 + i % 5)
             for i in range(80)]
    spans = [[(0, len(t) // 2), (len(t) // 2, len(t))] for t in texts]
    one_vecs, one_sents = Embedder(workers=1).encode_chunks(texts, spans)
    two_vecs, two_sents = Embedder(workers=2).encode_chunks(texts, spans)
    assert np.array_equal(one_vecs, two_vecs)
    assert all(np.array_equal(a, b) for a, b in zip(one_sents, two_sents))
    assert Embedder().threads == 1  # one thread per batch unless QA_THREADS says otherwise


# --- what the commands import ---------------------------------------------------------------------------

PROBE = """
import json, sys
from qa.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"code": code, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in
      ("torch", "transformers", "sentence_transformers", "onnxruntime", "gradio"))}), file=sys.stderr)
"""


def probe(*args) -> tuple[int, set[str], str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True, check=False,
                          cwd=ROOT, timeout=300)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], {m.split(".")[0] for m in report["loaded"]}, proc.stdout


def test_asking_imports_no_torch(seed_index):
    code, loaded, out = probe("ask", JAPAN_Q, "--index", seed_index)
    assert code == 0 and "$16 billion" in out
    assert loaded == {"onnxruntime"}


def test_stats_and_a_no_change_index_load_no_model(seed_index, tmp_path):
    code, loaded, _ = probe("stats", "--index", seed_index)
    assert code == 0 and loaded == set()
    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy)
    code, loaded, _ = probe("index", SEEDS, "--index", copy)
    assert code == 0 and loaded == set()
