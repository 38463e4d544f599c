"""Time to first answer over MCP stdio: from starting ``qa mcp`` to the first ``ask`` answer, as a desktop
assistant sees it (the official SDK's client spawns the server, does the handshake, lists the tools, asks
the seed question). Each run is a fresh process, so the model and index load every time.

    .venv/bin/python bench/mcp_first_answer.py --index INDEX [--runs 5]

Writes bench/out/mcp_first_answer.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from common import ROOT, fmt, pcts, provenance, save

QUESTION = "How much economic assistance has Japan provided to Ukraine since 2022?"


async def one_run(index: str) -> dict:
    from mcp import Client, StdioServerParameters

    server = StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp", "--index", index], cwd=str(ROOT),
                                   env=dict(os.environ, HF_HUB_OFFLINE="1"))
    t0 = time.perf_counter()
    async with Client(server, read_timeout_seconds=600) as client:
        t_ready = time.perf_counter()
        await client.list_tools()
        t_tools = time.perf_counter()
        result = await client.call_tool("ask", {"question": QUESTION})
        t_answer = time.perf_counter()
        answer = result.structured_content["answer"] if not result.is_error else None
        second = await client.call_tool("ask", {"question": QUESTION})
        t_second = time.perf_counter()
    assert answer == "$16 billion" and not second.is_error, result.content
    return {"handshake_s": t_ready - t0, "tools_listed_s": t_tools - t0, "first_answer_s": t_answer - t0,
            "next_answer_s": t_second - t_answer, "answer": answer}


def main() -> None:
    import anyio

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True, help="an index of seeds/ (qa index seeds --index DIR)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    started = provenance()
    runs = []
    for i in range(args.runs):
        runs.append(anyio.run(one_run, args.index))
        print(f"run {i + 1}: {runs[-1]}", file=sys.stderr)
    stats = {key: pcts([r[key] for r in runs]) for key in ("handshake_s", "tools_listed_s", "first_answer_s",
                                                            "next_answer_s")}
    rows = [f"| {key.removesuffix('_s').replace('_', ' ')} | {fmt(s['p50'], 2)} | {fmt(min(r[key] for r in runs), 2)} "
            f"| {fmt(max(r[key] for r in runs), 2)} |" for key, s in stats.items()]
    markdown = "\n".join([f"`qa mcp` over stdio, {args.runs} fresh processes (seconds from spawning the server)",
                          "", "| | median | min | max |", "|---|---|---|---|", *rows])
    save("mcp_first_answer", {"provenance": started, "runs": runs, "stats": stats}, markdown)


if __name__ == "__main__":
    main()
