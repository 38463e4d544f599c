"""Bench 5: the chat server under load. A real `qa serve` process answers N concurrent clients (default
20) asking the seed questions in a loop for D seconds (default 60) over loopback, while one more client
uploads a new document through the app's upload endpoint, waits for it to be indexed and asks about it.

    .venv/bin/python bench/load.py [--clients 20] [--seconds 60] [--threads 1] [--tag T]

The server gets its own copy of seeds/ as --docs and its own index (built first with `qa index`), on a
free 127.0.0.1 port. Each asking client is a thread with its own HTTP connection and Gradio session,
calling the `/ask` endpoint through Gradio's queue with plain HTTP (`POST /gradio_api/call/ask`, then
the event stream: what `curl` users of the "Use via API" page do). gradio_client costs ~15 times as
much CPU per request on the client side (measured: 42 ms against 2.8 ms), which on two cores would
load the machine more than the server does; the uploading client does use gradio_client
(`handle_file`, `/upload`), as the README shows. Every request is bounded by --request-timeout.

Checked: no failed request (HTTP error, Gradio error event, timeout, malformed result), every answer
is the one its question gets when asked alone from the old or the new index (same text, same cited
document and offsets), the upload is indexed and answerable (cited), no document lost (the Documents
list and the folder hold the seeds plus the upload), and the server's RSS (process and children,
sampled every second) does not keep rising. Timings are recorded: requests/s, latency p50/p95/max,
upload-to-answerable seconds, load average. `tests/test_load.py` runs the same harness for 16 s.

--threads N sets QA_THREADS, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to N for the server (torch,
FAISS and BLAS threads); without it the server inherits this environment (torch's default).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

if __package__:  # imported as bench.load (tests/test_load.py)
    from .common import OUT, ROOT, fmt, pcts, provenance, save
else:  # run as a script: bench/ is on sys.path
    from common import OUT, ROOT, fmt, pcts, provenance, save

SEEDS = ROOT / "seeds"
QUESTIONS_FILE = ROOT / "bench" / "seed_questions.txt"
JAPAN_Q = "How much economic assistance has Japan provided to Ukraine since 2022?"
JAPAN_A = "$16 billion"
UPLOAD_NAME = "brannock-archive.md"
UPLOAD_Q = "Who founded the Brannock Tidal Archive?"
UPLOAD_A = "Ilse Varnhagen"
MB = 1024 * 1024


def seed_questions() -> list[str]:
    return [q.strip() for q in QUESTIONS_FILE.read_text().splitlines() if q.strip()]


def upload_document(lines: int) -> str:
    """A Markdown document with one distinctive fact in the middle of ``lines`` lines of filler."""
    words = ("river stone meadow lantern harbor orchard valley bridge tower garden market "
             "cellar quarry mill chapel forge").split()
    filler = [f"Register line {i}: the {words[i % 16]} by the {words[(i * 7) % 16]} was measured by "
              f"surveyor number {i} in the year {1700 + i % 200}." for i in range(lines)]
    fact = ("The Brannock Tidal Archive was founded in 1867 by the cartographer Ilse Varnhagen, "
            "who collected tide tables from forty harbours.")
    half = lines // 2
    return "\n".join(["# Brannock Tidal Archive", "", *filler[:half], "", "## Founding", "", fact, "",
                      "## Registers", "", *filler[half:]]) + "\n"


# --- the server ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(threads: int | None) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    if threads:
        env.update(QA_THREADS=str(threads), OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    return env


def prepare(work: Path, threads: int | None) -> tuple[Path, Path, float]:
    """A private copy of seeds/ and its index, built by the real `qa index` command."""
    docs, index = work / "docs", work / "index"
    shutil.copytree(SEEDS, docs)
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "qa", "index", str(docs), "--index", str(index), "-q"], cwd=ROOT,
                       env=server_env(threads), capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"qa index failed ({r.returncode}): {r.stderr[-2000:]}")
    return docs, index, time.perf_counter() - t


class Server:
    """`qa serve` in a subprocess; its output goes to a log file (a full pipe would block it)."""

    def __init__(self, docs: Path, index: Path, threads: int | None, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qa", "serve", "--index", str(index), "--docs", str(docs),
             "--port", str(self.port)], cwd=ROOT, env=server_env(threads), stdout=self._log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 240) -> float:
        """Seconds until the API answers (the model and the index load before the server starts)."""
        import httpx

        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"qa serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "gradio_api/info", timeout=5).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"qa serve did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def errors(self) -> dict[str, int]:
        """The server log's errors, counted by the last line of their traceback (one per error: a chained
        traceback, "During handling of the above exception ...", counts once, by its outermost exception)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return {}
        out: dict[str, int] = {}
        pending, in_tb, chained = None, False, False
        for line in lines:
            if line.startswith("Traceback (most recent call last)"):
                if pending is not None and not chained:
                    out[pending] = out.get(pending, 0) + 1
                pending, in_tb, chained = None, True, False
            elif in_tb and line and not line[0].isspace():
                pending, in_tb = line[:300], False
            elif pending is not None and line.startswith(("During handling of the above exception",
                                                          "The above exception was the direct cause")):
                chained = True
        if pending is not None:
            out[pending] = out.get(pending, 0) + 1
        return out

    def rss_bytes(self) -> tuple[int, int]:
        """Resident memory of the server and its children, and their thread count."""
        import psutil

        proc = psutil.Process(self.proc.pid)
        procs = [proc, *proc.children(recursive=True)]
        rss = threads = 0
        for p in procs:
            try:
                rss += p.memory_info().rss
                threads += p.num_threads()
            except psutil.Error:
                pass
        return rss, threads

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self._log.close()


# --- the clients --------------------------------------------------------------------------------------


class ApiError(Exception):
    pass


class HttpApi:
    """One client: its own HTTP connection and Gradio session, calling named endpoints through the queue."""

    def __init__(self, url: str, timeout: float) -> None:
        import httpx

        self.url, self.timeout = url, timeout
        self.session_hash = uuid.uuid4().hex[:11]
        self.http = httpx.Client(timeout=httpx.Timeout(timeout))

    def call(self, api_name: str, *data):
        """POST /gradio_api/call/NAME, then read its event stream to the end; bounded by the timeout."""
        t0 = time.perf_counter()
        r = self.http.post(f"{self.url}gradio_api/call/{api_name}",
                           json={"data": list(data), "session_hash": self.session_hash})
        if r.status_code != 200:
            raise ApiError(f"HTTP {r.status_code} on POST: {r.text[:200]}")
        event_id = r.json()["event_id"]
        event = None
        with self.http.stream("GET", f"{self.url}gradio_api/call/{api_name}/{event_id}") as s:
            if s.status_code != 200:
                raise ApiError(f"HTTP {s.status_code} on the event stream")
            for line in s.iter_lines():
                if time.perf_counter() - t0 > self.timeout:
                    raise ApiError(f"timeout: no result within {self.timeout:.0f} s")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = json.loads(line[5:])
                    if event == "error":
                        raise ApiError(f"error event: {str(payload)[:200]}")
                    return payload[0] if isinstance(payload, list) and len(payload) == 1 else payload
        raise ApiError("the event stream ended without a result")

    def close(self) -> None:
        self.http.close()


def answer_key(result: dict) -> tuple:
    """What must not change between two askings of one question on one index."""
    c = (result.get("citations") or [None])[0]
    return (result.get("answer"), c and c["source"], c and c["start"], c and c["end"])


def asker(api: HttpApi, questions: list[str], offset: int, stop: threading.Event, out: list) -> None:
    i = offset
    while not stop.is_set():
        q = questions[i % len(questions)]
        i += 1
        t0 = time.perf_counter()
        try:
            result = api.call("ask", q, 5, "hybrid", None)
            if not isinstance(result, dict) or "answer" not in result:
                raise ApiError(f"malformed result: {str(result)[:200]}")
            out.append((t0, time.perf_counter() - t0, q, answer_key(result), None))
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            out.append((t0, time.perf_counter() - t0, q, None, f"{type(exc).__name__}: {exc}"[:300]))
    api.close()


def uploader(url: str, path: Path, expected_docs: list[str], delay: float, timeout: float, upload_timeout: float,
             stop: threading.Event, rec: dict) -> None:
    """Upload through gradio_client; then, until the run ends, ask about the new document and list the documents."""
    from gradio_client import Client, handle_file

    api = HttpApi(url, timeout)
    asks, lists = rec["asks"], rec["lists"]
    try:
        client = Client(url, verbose=False, analytics_enabled=False)
        if stop.wait(max(0.0, delay - (time.perf_counter() - rec["t0"]))):
            rec["error"] = "the run ended before the upload started"
            return
        rec["t_start"] = time.perf_counter()
        report = client.submit([handle_file(str(path))], api_name="/upload").result(timeout=upload_timeout)
        rec["t_indexed"] = time.perf_counter()
        rec["report"] = report
        if not (isinstance(report, dict) and report.get("ok") and path.name in report.get("added", [])):
            rec["error"] = f"upload refused or not indexed: {str(report)[:300]}"
            return
        while True:
            t = time.perf_counter()
            try:
                result = api.call("ask", UPLOAD_Q, 5, "hybrid", None)
                c = (result.get("citations") or [None])[0]
                cited = bool(c and c["source"] == path.name and UPLOAD_A in (result.get("answer") or ""))
                asks.append((t, time.perf_counter() - t, cited, None if cited else str(result.get("answer"))))
                if cited and "t_answerable" not in rec:
                    rec["t_answerable"] = time.perf_counter()
                    rec["answer"], rec["sentence"] = result["answer"], c["sentence"]
            except Exception as exc:  # noqa: BLE001
                asks.append((t, time.perf_counter() - t, False, f"{type(exc).__name__}: {exc}"[:300]))
            if "t_answerable" not in rec:  # the first question after the upload must already cite it
                break
            try:
                names = {d["source"] for d in api.call("documents")}
                lists.append(sorted(set(expected_docs) - names))
            except Exception as exc:  # noqa: BLE001
                lists.append([f"{type(exc).__name__}: {exc}"[:300]])
            if stop.is_set():
                break
    except Exception as exc:  # noqa: BLE001
        rec["error"] = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        api.close()


def sampler(server: Server, stop: threading.Event, samples: list) -> None:
    while True:
        try:
            rss, threads = server.rss_bytes()
            samples.append((time.perf_counter(), rss, threads, os.getloadavg()[0]))
        except Exception:  # noqa: BLE001 - the server may be gone; its failure shows elsewhere
            pass
        if stop.wait(1.0):
            return


def ask_each(url: str, questions: list[str], timeout: float) -> dict:
    api = HttpApi(url, timeout)
    try:
        return {q: answer_key(api.call("ask", q, 5, "hybrid", None)) for q in questions}
    finally:
        api.close()


def document_list(url: str, timeout: float) -> dict[str, int]:
    """The Documents list: name -> chunks."""
    api = HttpApi(url, timeout)
    try:
        return {d["source"]: d["chunks"] for d in api.call("documents")}
    finally:
        api.close()


# --- one run ------------------------------------------------------------------------------------------


def rss_trend(samples: list, t_from: float, t_to: float) -> dict:
    """Is RSS still rising? Over [t_from, t_to] (the load after the upload is indexed): the peak of the last
    third against the peak of the first two thirds. A leak of L MB per second shows as about L x third MB."""
    window = [(t, rss) for t, rss, *_ in samples if t_from <= t <= t_to]
    cut = t_from + 2 * (t_to - t_from) / 3
    early = [rss for t, rss in window if t < cut]
    late = [rss for t, rss in window if t >= cut]
    out = {"steady_window_s": round(t_to - t_from, 1), "steady_samples": len(window)}
    if len(early) < 2 or len(late) < 2:
        return dict(out, early_peak_mb=None, late_peak_mb=None, late_growth_mb=None)
    return dict(out, early_peak_mb=max(early) / MB, late_peak_mb=max(late) / MB,
                late_growth_mb=(max(late) - max(early)) / MB)


def run_load(clients: int = 20, seconds: float = 60, threads: int | None = None, request_timeout: float = 30,
             upload_after: float | None = None, upload_lines: int = 300, work: Path | None = None,
             keep: bool = False) -> dict:
    """Start a server, load it, check it, stop it; returns every figure (see the module's docstring)."""
    prov = provenance()
    own_work = work is None
    work = Path(tempfile.mkdtemp(prefix="qa-bench-load-")) if own_work else Path(work)
    questions = seed_questions()
    upload_after = min(5.0, seconds / 6) if upload_after is None else upload_after
    prov["machine"].pop("model_threads", None)  # this process's, not the server's (server_env below)
    thread_vars = ("QA_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    result: dict = {"bench": "load", **prov,
                    "server_env": {k: v for k, v in server_env(threads).items() if k in thread_vars},
                    "clients": clients, "seconds": seconds, "request_timeout_s": request_timeout,
                    "server_threads": threads, "questions": len(questions), "upload_after_s": upload_after,
                    "upload_lines": upload_lines}
    server = None
    try:
        docs, index, index_s = prepare(work, threads)
        result["index_build_s"] = round(index_s, 2)
        upload_path = work / "upload" / UPLOAD_NAME
        upload_path.parent.mkdir()
        upload_path.write_text(upload_document(upload_lines))
        result["upload_bytes"] = upload_path.stat().st_size
        server = Server(docs, index, threads, work / "serve.log")
        result["server_start_s"] = round(server.wait_ready(), 2)
        seeds = sorted(p.name for p in SEEDS.iterdir() if p.is_file())
        expected_docs = sorted(set(seeds) | {UPLOAD_NAME})
        before_docs = sorted(document_list(server.url, request_timeout))
        # answers each question gets when asked alone (also warms every code path) ...
        expected_old = ask_each(server.url, questions, request_timeout)
        rss_start, threads_start = server.rss_bytes()

        stop, samples = threading.Event(), []
        per_client = [[] for _ in range(clients)]
        upload_rec: dict = {"asks": [], "lists": []}
        pool = [threading.Thread(target=asker, args=(HttpApi(server.url, request_timeout), questions, i, stop,
                                                     per_client[i]), daemon=True) for i in range(clients)]
        extra = [threading.Thread(target=uploader, daemon=True,
                                  args=(server.url, upload_path, expected_docs, upload_after, request_timeout,
                                        request_timeout * 4, stop, upload_rec)),
                 threading.Thread(target=sampler, args=(server, stop, samples), daemon=True)]
        t_start = upload_rec["t0"] = time.perf_counter()
        for t in [*pool, *extra]:
            t.start()
        time.sleep(seconds)
        stop.set()
        join_deadline = time.perf_counter() + request_timeout * 4 + 30
        for t in [*pool, *extra]:
            t.join(timeout=max(0.1, join_deadline - time.perf_counter()))
        t_end = time.perf_counter()
        stuck = sum(t.is_alive() for t in [*pool, *extra])
        rss_end, threads_end = server.rss_bytes()

        # ... and from the new index, after the load
        expected_new = ask_each(server.url, questions, request_timeout)
        after_list = document_list(server.url, request_timeout)
        after_docs = sorted(after_list)
        on_disk = sorted(p.name for p in docs.iterdir() if p.is_file())
        server_alive = server.proc.poll() is None

        records = [r for rs in per_client for r in rs]
        ok = [r for r in records if r[4] is None]
        failures = [r for r in records if r[4] is not None]
        lat = [r[1] * 1000 for r in ok]
        inconsistent = [(q, key, expected_old[q], expected_new[q]) for _, _, q, key, _ in ok
                        if key not in (expected_old[q], expected_new[q])]
        japan = [key for _, _, q, key, _ in ok if q == JAPAN_Q]
        last_done = max((r[0] + r[1] for r in records), default=t_end)
        duration = last_done - t_start
        during_upload = []
        if "t_start" in upload_rec:
            u0, u1 = upload_rec["t_start"], upload_rec.get("t_indexed", t_end)
            during_upload = [r[1] * 1000 for r in ok if r[0] < u1 and r[0] + r[1] > u0]
        up_asks, up_lists = upload_rec["asks"], upload_rec["lists"]
        rss_peak = max([rss_start, rss_end, *(s[1] for s in samples)])
        steady_from = upload_rec.get("t_indexed", t_start)  # no upload: the whole run
        report = upload_rec.get("report") or {}

        result.update({
            "requests": len(records),
            "failures": len(failures),
            "failure_examples": sorted({r[4] for r in failures})[:10],
            "stuck_clients": stuck,
            "server_alive": server_alive,
            "duration_s": round(duration, 2),
            "requests_per_s": len(ok) / duration if duration > 0 else None,
            "latency_ms": {**pcts(lat), "max": max(lat, default=None), "min": min(lat, default=None)},
            "latency_during_upload_ms": {**pcts(during_upload), "n": len(during_upload)},
            "per_client_requests": [len(rs) for rs in per_client],
            "japan_asked": len(japan),
            "japan_wrong": sum(1 for key in japan if JAPAN_A not in (key[0] or "")),
            "inconsistent_answers": len(inconsistent),
            "inconsistent_examples": [list(map(str, x)) for x in inconsistent[:5]],
            "expected_answers_changed_by_upload": sorted(q for q in questions if expected_old[q] != expected_new[q]),
            "upload": {
                "error": upload_rec.get("error"),
                "ok": bool(report.get("ok")), "added": report.get("added"), "refused": report.get("refused"),
                "chunks": after_list.get(UPLOAD_NAME),
                "index_seconds_reported": report.get("seconds"),
                "upload_call_s": (upload_rec["t_indexed"] - upload_rec["t_start"])
                if "t_indexed" in upload_rec else None,
                "upload_to_answerable_s": (upload_rec["t_answerable"] - upload_rec["t_start"])
                if "t_answerable" in upload_rec else None,
                "started_at_s": (upload_rec["t_start"] - t_start) if "t_start" in upload_rec else None,
                "answer": upload_rec.get("answer"), "sentence": upload_rec.get("sentence"),
                "asks_after": len(up_asks), "asks_after_not_cited": sum(1 for a in up_asks if not a[2]),
                "asks_after_examples": sorted({a[3] for a in up_asks if not a[2]})[:5],
                "document_lists_after": len(up_lists), "document_lists_incomplete": sum(1 for m in up_lists if m),
                "document_lists_missing": sorted({x for m in up_lists for x in m})[:5],
            },
            "documents": {"seeds": seeds, "before": before_docs, "after": after_docs, "expected": expected_docs,
                          "on_disk": on_disk, "lost": sorted(set(expected_docs) - set(after_docs)),
                          "lost_on_disk": sorted(set(expected_docs) - set(on_disk))},
            "rss_mb": {"start": rss_start / MB, "peak": rss_peak / MB, "end": rss_end / MB,
                       "growth": (rss_end - rss_start) / MB, **rss_trend(samples, steady_from, t_start + seconds)},
            "server_threads_count": {"start": threads_start, "end": threads_end},
            "samples": [{"t": round(t - t_start, 2), "rss_mb": round(rss / MB, 1), "threads": n, "load1": round(la, 2)}
                        for t, rss, n, la in samples],
            "loadavg_during_max": max((s[3] for s in samples), default=None),
            "server_errors": server.errors(),
            "server_log_tail": server.log_tail(3000) if failures or stuck or not server_alive else None,
        })
        return result
    finally:
        if server is not None:
            server.stop()
        if own_work and not keep:
            shutil.rmtree(work, ignore_errors=True)


def markdown(r: dict) -> str:
    lat, rss, up = r["latency_ms"], r["rss_mb"], r["upload"]
    env = r.get("server_env") or {}
    threads = f"QA_THREADS={env['QA_THREADS']}" if env.get("QA_THREADS") else "default"
    lines = [
        "| server threads | clients × s | requests | failures | req/s | p50 ms | p95 ms | max ms "
        "| p50 / p95 ms during the upload | RSS start / peak / end MB | upload → answerable s "
        "| load avg (start, max, end) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {threads} | {r['clients']} × {r['seconds']:g} | {r['requests']} | {r['failures']} "
        f"| {fmt(r['requests_per_s'], 1)} "
        f"| {fmt(lat['p50'], 0)} | {fmt(lat['p95'], 0)} | {fmt(lat['max'], 0)} "
        f"| {fmt(r['latency_during_upload_ms']['p50'], 0)} / {fmt(r['latency_during_upload_ms']['p95'], 0)} "
        f"| {rss['start']:.0f} / {rss['peak']:.0f} / {rss['end']:.0f} | {fmt(up['upload_to_answerable_s'], 1)} "
        f"| {r['loadavg_at_start'][0]:.2f}, {fmt(r['loadavg_during_max'], 2)}, {r['loadavg_at_end'][0]:.2f} |",
        "",
        f"Checks: {r['failures']} failed requests, {r['stuck_clients']} stuck clients, {r['japan_wrong']} wrong of "
        f"{r['japan_asked']} answers to the $16 billion question, {r['inconsistent_answers']} answers differing from "
        f"the question asked alone; upload {'indexed' if up['ok'] else 'NOT indexed'} "
        f"({up['chunks']} chunks, {up['index_seconds_reported']} s of indexing, call {fmt(up['upload_call_s'], 1)} s, "
        f"started at "
        f"{fmt(up['started_at_s'], 1)} s), then asked {up['asks_after']} times, {up['asks_after_not_cited']} "
        f"without citing it, and the document list read {up['document_lists_after']} times, "
        f"{up['document_lists_incomplete']} incomplete; documents lost at the end: {r['documents']['lost'] or 'none'}; "
        f"RSS after the upload: peak of the last third {fmt(rss['late_growth_mb'], 1)} MB above that of the first two "
        f"({rss['steady_window_s']} s window); server threads {r['server_threads_count']['start']} → "
        f"{r['server_threads_count']['end']}; {r['duration_s']} s until the last request ended; server errors: "
        + (", ".join(f"{n} × {line[:90]}" for line, n in r["server_errors"].items()) or "none") + ".",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20, help="concurrent asking clients (default 20)")
    ap.add_argument("--seconds", type=float, default=60, help="how long they ask (default 60)")
    ap.add_argument("--threads", type=int, default=None,
                    help="QA_THREADS / OMP_NUM_THREADS / OPENBLAS_NUM_THREADS for the server (default: inherited)")
    ap.add_argument("--request-timeout", type=float, default=30, help="seconds before a request counts as failed")
    ap.add_argument("--upload-after", type=float, default=None, help="seconds into the run (default min(5, D/6))")
    ap.add_argument("--upload-lines", type=int, default=300, help="filler lines in the uploaded document")
    ap.add_argument("--tag", default=None, help="output name suffix (default: 1thread / default)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (docs, index, server log)")
    args = ap.parse_args()
    tag = args.tag or (f"{args.threads}thread" if args.threads else "default")
    r = run_load(args.clients, args.seconds, args.threads, args.request_timeout, args.upload_after,
                 args.upload_lines, keep=args.keep)
    r["tag"] = tag
    save(f"load-{tag}", r, markdown(dict(r, loadavg_at_end=os.getloadavg())))
    up = r["upload"]
    bad = (r["failures"] or r["stuck_clients"] or r["inconsistent_answers"] or r["japan_wrong"] or not up["ok"]
           or up["upload_to_answerable_s"] is None or up["asks_after_not_cited"] or up["document_lists_incomplete"]
           or r["documents"]["lost"] or r["documents"]["lost_on_disk"] or not r["server_alive"])
    if bad:
        print(f"load: CHECKS FAILED (see {OUT / f'load-{tag}.json'})", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
