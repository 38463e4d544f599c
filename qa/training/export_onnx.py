"""Write the ONNX files the question path runs on, from the current torch weights.

``qa export-onnx`` exports the embedder (all-MiniLM-L6-v2's encoder: word pieces in, token vectors
out; pooling stays in numpy, so sentence vectors come from the same pass) and the span reader
(start and end logits), quantizes their weights to int8 and writes them with the embedder's
tokenizer and a manifest of SHA-256 hashes into ``qa/models/onnx``. Run it after ``qa train-reader``
replaces ``qa/models/span-reader``: a test fails while the shipped files were made from other weights.

The graphs are saved as ONNX Runtime's extended optimisation level leaves them, which halves the time
to load them. Quantization: dynamic int8 weights, one scale per output channel. The embedder keeps its feed-forward
output projections in float32: quantizing them too cost the most accuracy (query vectors' cosine to the
float model fell to 0.989 at worst on SQuAD questions, against 0.993 with them kept), and vectors are
compared with vectors made by the float model's exports of earlier versions. The span reader is int8
throughout, about a quarter faster, with the same answers (docs/BENCHMARKS.md, Fast path).
Needs the torch extra and ``onnx``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from qa.errors import QAError
from qa.inference.model_files import (
    MANIFEST,
    ONNX_DIR,
    READER_DIR,
    TOKENIZER,
    embedder_weights,
    sha256_of,
)
from qa.inference.runners import INPUTS, OUTPUTS

OPSET = 17
KEEP_FLOAT = "/output/dense/MatMul"  # feed-forward output projections (not attention/output/dense)


def _wrapped(model, outputs: tuple[str, ...]):
    import torch

    class Named(torch.nn.Module):  # keyword inputs and plain tuple outputs, as the exporter wants them
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return tuple(getattr(out, "last_hidden_state" if name == "token_embeddings" else name) for name in outputs)

    return Named().eval()


def _export(model, network: str, path: Path) -> None:
    import torch

    outputs = OUTPUTS[network]
    ids = torch.ones(2, 16, dtype=torch.long)
    axes = {name: {0: "batch", 1: "length"} for name in (*INPUTS, *outputs)}
    with torch.no_grad():
        torch.onnx.export(_wrapped(model, outputs), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(path),
                          input_names=list(INPUTS), output_names=list(outputs), dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


def _quantize(src: Path, dst: Path, keep_float: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src), load_external_data=False).graph
    keep = [n.name for n in graph.node if n.name.endswith(KEEP_FLOAT) and "/attention/" not in n.name]
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_exclude=keep if keep_float else [])


def _optimize(src: Path, dst: Path) -> None:
    """Save the graph as ONNX Runtime optimises it (fused layer norms and GELUs, constants folded), so a
    question's process does less of that work when it loads the file. Only the extended level: the full
    level also picks memory layouts for this machine's CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(dst)
    options.log_severity_level = 3
    ort.InferenceSession(str(src), options, providers=["CPUExecutionProvider"])


def export(out: Path = ONNX_DIR, reader_dir: Path = READER_DIR) -> dict:
    """Export both networks into ``out`` (replacing what is there, manifest last); returns the manifest."""
    try:
        import onnx  # noqa: F401 - checked here so the message comes before minutes of work
        import torch
        import transformers
    except ImportError as exc:
        raise QAError(f"exporting needs the torch extra and onnx ({exc.name} is missing): "
                      "pip install 'qa-docs[torch]' onnx") from None
    if not (reader_dir / "model.safetensors").is_file():
        raise QAError(f"no span reader in {reader_dir} (model.safetensors is missing)")
    transformers.utils.logging.set_verbosity_error()
    base = embedder_weights()
    models = {
        "embedder": (lambda: transformers.AutoModel.from_pretrained(str(base), dtype=torch.float32), base),
        "span-reader": (lambda: transformers.AutoModelForQuestionAnswering.from_pretrained(
            str(reader_dir), dtype=torch.float32), reader_dir),
    }
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"files": {}, "sources": {}, "quantization": {
                    "embedder": f"dynamic int8 weights, per channel; feed-forward {KEEP_FLOAT} kept float32",
                    "span-reader": "dynamic int8 weights, per channel"},
                "opset": OPSET, "torch": torch.__version__, "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        tmp = Path(tmp)
        for network, (load, source) in models.items():
            _export(load().eval(), network, tmp / f"{network}.float.onnx")
            _quantize(tmp / f"{network}.float.onnx", tmp / f"{network}.int8.onnx", keep_float=network == "embedder")
            _optimize(tmp / f"{network}.int8.onnx", tmp / f"{network}.onnx")
            manifest["sources"][network] = {"file": f"{source.name}/model.safetensors",
                                            "sha256": sha256_of(source / "model.safetensors")}
        shutil.copyfile(base / TOKENIZER, tmp / TOKENIZER)
        for name in (f"{n}.onnx" for n in models):
            manifest["files"][name] = {"sha256": sha256_of(tmp / name), "bytes": (tmp / name).stat().st_size}
        manifest["files"][TOKENIZER] = {"sha256": sha256_of(tmp / TOKENIZER), "bytes": (tmp / TOKENIZER).stat().st_size}
        for name in manifest["files"]:
            os.replace(tmp / name, out / name)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp / MANIFEST, out / MANIFEST)
    return manifest
