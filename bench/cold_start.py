"""Bench: cold start of `qa ask` (a new process per question), median and max of N runs, with the page
cache warm and dropped, on the ONNX path and on the torch path (QA_BACKEND=torch) in the same run.

    .venv/bin/python bench/cold_start.py [--runs 5] [--index DIR] [--tag T]

"Dropped" empties the page cache before each run (/proc/sys/vm/drop_caches, as root); where that is not
allowed it evicts the model files, the index and the Python packages' shared libraries with
posix_fadvise(DONTNEED) instead, and says so. Also times `qa --help` and `qa stats`. The goal: `qa ask`
in at most 1.0 s (median, warm cache, quiet machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from common import ROOT, provenance, save

QUESTION = "How much economic assistance has Japan provided to Ukraine since 2022?"


def drop_caches() -> str:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return "drop_caches"
    except OSError:
        pass
    roots = [ROOT / "qa" / "models", Path(sysconfig.get_paths()["purelib"])]
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and (path.suffix in (".so", ".onnx", ".json", ".safetensors", ".py") or ".so." in path.name):
                try:
                    fd = os.open(path, os.O_RDONLY)
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    os.close(fd)
                except OSError:
                    pass
    return "posix_fadvise"


def timed(args: list[str], env: dict) -> float:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"qa {' '.join(args)} failed: {proc.stderr[-500:]}")
    return wall


def series(args: list[str], env: dict, runs: int, cold: bool) -> dict:
    timed(args, env)  # once untimed: files read, .pyc written
    walls, how = [], None
    for _ in range(runs):
        if cold:
            how = drop_caches()
        walls.append(timed(args, env))
    return {"median_s": statistics.median(walls), "max_s": max(walls), "runs": walls, "evicted_by": how}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--index", default=None, help="an index of seeds/ (default: built in a temporary folder)")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch path (no torch extra installed)")
    ap.add_argument("--tag", default=None)
    args = ap.parse_args()
    prov = provenance()
    base = {k: v for k, v in os.environ.items() if k not in ("QA_BACKEND", "QA_THREADS")}
    with tempfile.TemporaryDirectory(prefix="qa-cold-") as tmp:
        index = args.index or str(Path(tmp) / "index")
        if not args.index:
            subprocess.run([sys.executable, "-m", "qa", "index", str(ROOT / "seeds"), "--index", index],
                           check=True, capture_output=True, cwd=ROOT)
        ask = ["ask", QUESTION, "--index", index]
        rows = {
            "qa --help": series(["--help"], base, args.runs, cold=False),
            "qa stats": series(["stats", "--index", index], base, args.runs, cold=False),
            "qa ask (ONNX), warm cache": series(ask, base, args.runs, cold=False),
            "qa ask (ONNX), cache dropped": series(ask, base, args.runs, cold=True),
        }
        if not args.no_torch:
            torch_env = dict(base, QA_BACKEND="torch")
            rows["qa ask (torch), warm cache"] = series(ask, torch_env, args.runs, cold=False)
            rows["qa ask (torch), cache dropped"] = series(ask, torch_env, args.runs, cold=True)
    ratio = None
    if not args.no_torch:
        ratio = rows["qa ask (torch), warm cache"]["median_s"] / rows["qa ask (ONNX), warm cache"]["median_s"]
    result = {"bench": "cold_start", **prov, "rows": rows, "torch_over_onnx_warm": ratio}
    lines = ["| command | median s | max s | runs |", "|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['median_s']:.2f} | {r['max_s']:.2f} | {len(r['runs'])} |")
    evicted = next((r["evicted_by"] for r in rows.values() if r["evicted_by"]), None)
    lines += ["", f"page cache emptied by {evicted}; load average at start {prov['loadavg_at_start'][0]:.1f}"
              + (f"; torch / ONNX (warm, median) = **{ratio:.1f}x**" if ratio else "")]
    save("cold_start" + (f"-{args.tag}" if args.tag else ""), result, "\n".join(lines))


if __name__ == "__main__":
    main()
