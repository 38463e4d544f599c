import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
JAPAN_Q = "How much economic assistance has Japan provided to Ukraine since 2022?"
OFF_TOPIC_Q = "Who won the 2018 FIFA World Cup?"


@pytest.fixture(scope="session")
def embedder():
    from qa.embedder import Embedder

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


def run_qa(*args, env=None, input=None, timeout=300):
    """Run the real `qa` command in a subprocess."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "qa", *map(str, args)],
        capture_output=True, text=True, env=full_env, input=input, timeout=timeout, cwd=ROOT,
    )
