"""The chat server under load: a real `qa serve` process, 20 concurrent clients asking over loopback for
16 seconds while one more uploads a document, indexes it and asks about it (bench/load.py, shortened).

Asserted: no failed request, every answer right (the $16 billion question) and the same as the question
gets when asked alone, the upload indexed and answerable at once, no document lost, memory not rising.
Timings (requests/s, latency, upload-to-answerable) are recorded in the report, never asserted: the
machine may be shared. ``bench/load.py --seconds 60`` is the full run (docs/BENCHMARKS.md, Load).
"""

from __future__ import annotations

import json
import os

import pytest

from bench.load import UPLOAD_A, UPLOAD_NAME, markdown, run_load

from .conftest import JAPAN_Q, ROOT, SEEDS

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.*")

CLIENTS = 20
SECONDS = 16
ARTIFACTS = ROOT / "tests" / "artifacts"
RSS_GROWTH_LIMIT_MB = 300  # end of the run against just before it (20 busy connections, one upload embedded)
RSS_LATE_GROWTH_LIMIT_MB = 64  # peak of the last third of the steady phase above the peak before it


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    result = run_load(clients=CLIENTS, seconds=SECONDS, threads=1, request_timeout=30, upload_after=1,
                      upload_lines=40, work=tmp_path_factory.mktemp("load"))
    result["loadavg_at_end"] = os.getloadavg()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # every figure, for a failure's post-mortem
    (ARTIFACTS / "load.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print("\n" + markdown(result))
    return result


def test_no_request_fails_or_hangs(load):
    assert load["server_alive"], load["server_log_tail"]
    assert load["stuck_clients"] == 0
    assert load["requests"] >= CLIENTS and min(load["per_client_requests"]) >= 1  # every client was served
    assert load["server_errors"] == {}, load["server_log_tail"]
    assert load["failures"] == 0, load["failure_examples"]


def test_answers_are_right_and_the_same_as_asked_alone(load):
    assert load["japan_asked"] >= 1 and load["japan_wrong"] == 0  # each contains JAPAN_A, "$16 billion"
    assert load["inconsistent_answers"] == 0, load["inconsistent_examples"]


def test_upload_is_indexed_and_answerable_at_once(load):
    up = load["upload"]
    assert up["error"] is None and up["ok"] and up["added"] == [UPLOAD_NAME] and not up["refused"]
    assert up["upload_to_answerable_s"] is not None and UPLOAD_A in up["answer"]
    assert up["asks_after"] >= 1 and up["asks_after_not_cited"] == 0, up["asks_after_examples"]


def test_no_document_is_lost(load):
    docs = load["documents"]
    seeds = sorted(p.name for p in SEEDS.iterdir() if p.is_file())
    assert docs["before"] == seeds
    assert docs["after"] == docs["expected"] == sorted([*seeds, UPLOAD_NAME])
    assert docs["on_disk"] == docs["expected"]
    assert load["upload"]["document_lists_after"] >= 1 and load["upload"]["document_lists_incomplete"] == 0


def test_memory_does_not_keep_rising(load):
    rss = load["rss_mb"]
    assert rss["end"] < rss["start"] + RSS_GROWTH_LIMIT_MB, rss
    assert rss["steady_samples"] >= 6, f"the upload left too short a steady phase to judge: {rss}"
    assert rss["late_growth_mb"] < RSS_LATE_GROWTH_LIMIT_MB, rss
    assert load["server_threads_count"]["end"] <= load["server_threads_count"]["start"] + 2 * CLIENTS + 10


# --- the cause of the occasional failure under load --------------------------------------------------------


def test_span_reader_is_thread_safe():
    """Questions read at once from several threads get exactly what they get alone: the tokenizers are
    configured once and never changed per call, and the ONNX session is shared."""
    from concurrent.futures import ThreadPoolExecutor

    from qa.answer.span_model import SpanReader

    reader = SpanReader()
    a = (JAPAN_Q, ["Since 2022, Tokyo has provided $16 billion in economic assistance to Ukraine.",
                   "Japan also pledged support.", "The package, announced in Tokyo on Monday by the prime "
                   "minister, covers energy, demining and reconstruction."])
    b = ("Who is the Japanese Foreign Minister?", ["The Japanese Foreign Minister is Motegi Toshimitsu.",
                                                    "He spoke in Kyiv."])
    c = ("Who?", ["x " * 400])  # truncated to the window: a different batch shape in between
    alone = [reader.spans(*q) for q in (a, b, c)]
    assert alone[0] and alone[0][0].passage == 0
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda q: reader.spans(*q), [a, b, c] * 8))
    assert together == alone * 8
