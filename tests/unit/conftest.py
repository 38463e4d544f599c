"""The unit tier: fast tests of pure functions that load no model, build no index and start no process.

Every test in this folder is marked ``unit`` (``pytest -m unit``). When a session runs nothing but this
folder, a guard checks at the end that no model library was even imported.
"""

import sys
from pathlib import Path

import pytest

UNIT_DIR = Path(__file__).resolve().parent
# Importing any of these means something reached for a model, a FAISS index, the UI or a browser.
HEAVY_MODULES = ("torch", "sentence_transformers", "transformers", "faiss", "gradio", "playwright")

_unit_only = False


def _is_unit(item) -> bool:
    return UNIT_DIR in Path(item.path).resolve().parents


@pytest.hookimpl(tryfirst=True)  # before -m / -k deselection, so it sees everything collected
def pytest_collection_modifyitems(config, items):
    global _unit_only
    _unit_only = bool(items) and all(_is_unit(item) for item in items)
    for item in items:  # this hook sees the whole session's items: mark only this folder's
        if _is_unit(item):
            item.add_marker(pytest.mark.unit)


def heavy_modules_loaded() -> list[str]:
    return sorted(name for name in sys.modules if name.partition(".")[0] in HEAVY_MODULES)


@pytest.fixture(scope="session", autouse=True)
def _no_model_libraries():
    """Fails the session's last unit test if the unit tier imported a model library (only checked when
    nothing but tests/unit was collected: other test files import them at collection)."""
    yield
    if _unit_only:
        loaded = heavy_modules_loaded()
        assert not loaded, f"the unit tier imported model libraries: {loaded[:10]}"
