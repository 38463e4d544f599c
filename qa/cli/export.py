"""``qa export-onnx``: write the ONNX models the question path runs on (the work is in ``qa.training.export_onnx``)."""

from __future__ import annotations

from pathlib import Path

from qa.settings import Settings


def register(sub, defaults: Settings) -> None:  # noqa: ARG001 - exporting reads no query settings
    from qa.inference.model_files import ONNX_DIR, READER_DIR

    p = sub.add_parser("export-onnx", help="export the embedder and span reader to ONNX (after train-reader)",
                       description="Export the embedder and the span reader to int8 ONNX files with a manifest of "
                       "their hashes; needs the torch extra and onnx.")
    p.add_argument("--reader", type=Path, default=READER_DIR, metavar="DIR",
                   help="span reader weights (default: the shipped qa/models/span-reader)")
    p.add_argument("--out", type=Path, default=ONNX_DIR, metavar="DIR", help="output folder (default: qa/models/onnx)")
    p.set_defaults(func=run)


def run(args) -> int:
    from qa.training.export_onnx import export

    manifest = export(args.out, args.reader)
    for name, entry in manifest["files"].items():
        print(f"{args.out / name}: {entry['bytes'] / 1e6:.1f} MB, sha256 {entry['sha256'][:16]}")
    return 0
