"""qa.settings: defaults, the environment (given as a dict), overrides and validation."""

import re

import pytest

from qa.errors import QAError
from qa.settings import MB, Settings


def test_defaults_with_an_empty_environment():
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.index, s.store, s.corpus, s.k, s.n_passages, s.mode, s.reader, s.threshold, s.depth) == (
        "index", None, "seeds", 20, 20, "hybrid", "trained", 0.6, 100)
    assert (s.max_file_mb, s.max_upload_mb, s.threads) == (20.0, 20.0, None)
    assert (s.fusion, s.fusion_weight) == ("minmax", 0.45)
    assert s.rerank == 0  # reranking costs ~40 ms a passage: asked for, not default
    assert s.sentence_rescore == 30


def test_fusion_from_the_environment():
    assert (Settings.from_env({"QA_FUSION": "rrf"}).fusion, Settings.from_env({"QA_FUSION": "rrf"}).fusion_weight) == (
        "rrf", 0.45)
    s = Settings.from_env({"QA_FUSION": " zscore:0.3 "})
    assert (s.fusion, s.fusion_weight) == ("zscore", 0.3)
    with pytest.raises(QAError, match="unknown fusion 'sum'"):
        Settings.from_env({"QA_FUSION": "sum"})
    with pytest.raises(QAError, match="QA_FUSION must be METHOD or METHOD:WEIGHT"):
        Settings.from_env({"QA_FUSION": "minmax:heavy"})
    with pytest.raises(QAError, match="between 0 and 1"):
        Settings.from_env({"QA_FUSION": "minmax:1.5"})


def test_the_environment_is_read():
    env = {"QA_INDEX": "/data/idx", "QA_STORE": "postgresql://h/db", "QA_READER": " heuristic ",
           "QA_THREADS": " 4 ", "QA_MAX_FILE_MB": "1.5", "QA_RERANK": " 10 ", "QA_SENTENCE_RESCORE": "0",
           "UNRELATED": "x"}
    s = Settings.from_env(env)
    assert (s.index, s.store, s.reader, s.threads, s.max_file_mb, s.rerank, s.sentence_rescore) == (
        "/data/idx", "postgresql://h/db", "heuristic", 4, 1.5, 10, 0)


def test_empty_variables_are_ignored():
    s = Settings.from_env({"QA_INDEX": "", "QA_STORE": "", "QA_READER": "", "QA_THREADS": "  ", "QA_MAX_FILE_MB": " "})
    assert s == Settings()


def test_overrides_win_and_none_is_ignored():
    env = {"QA_INDEX": "from-env", "QA_READER": "heuristic"}
    s = Settings.from_env(env, index=None, reader="trained", k=3)
    assert (s.index, s.reader, s.k) == ("from-env", "trained", 3)


@pytest.mark.parametrize(("env", "message"), [
    ({"QA_READER": "bogus"}, "unknown QA_READER 'bogus'; choose one of: trained, heuristic"),
    ({"QA_THREADS": "abc"}, "QA_THREADS must be a number of threads, not 'abc'"),
    ({"QA_THREADS": " 2.5 "}, "QA_THREADS must be a number of threads, not '2.5'"),
    ({"QA_THREADS": "0"}, "threads must be at least 1, not 0"),
    ({"QA_RERANK": "many"}, "QA_RERANK must be a number of passages, not 'many'"),
    ({"QA_RERANK": "-2"}, "rerank must be a number of passages (0: off), not -2"),
    ({"QA_SENTENCE_RESCORE": "all"}, "QA_SENTENCE_RESCORE must be a number of passages, not 'all'"),
    ({"QA_SENTENCE_RESCORE": "-1"}, "sentence rescoring must be a number of passages (0: off), not -1"),
    ({"QA_MAX_FILE_MB": "lots"}, "QA_MAX_FILE_MB must be a number of megabytes (0 for no limit), not 'lots'"),
    ({"QA_MAX_FILE_MB": "-1"}, "QA_MAX_FILE_MB must be a number of megabytes (0 for no limit), not '-1'"),
    ({"QA_MAX_FILE_MB": "nan"}, "QA_MAX_FILE_MB must be a number of megabytes (0 for no limit), not 'nan'"),
    ({"QA_MAX_FILE_MB": "inf"}, "QA_MAX_FILE_MB must be a number of megabytes (0 for no limit), not 'inf'"),
])
def test_invalid_environment_values_raise_with_the_message(env, message):
    with pytest.raises(QAError, match=f"^{re.escape(message)}$"):
        Settings.from_env(env)


@pytest.mark.parametrize(("fields", "message"), [
    ({"mode": "fast"}, "unknown mode 'fast'; choose one of: hybrid, dense, bm25"),
    ({"reader": "neural"}, "unknown reader 'neural'; choose one of: trained, heuristic"),
    ({"k": 0}, "k must be at least 1"),
    ({"threads": 0}, "threads must be at least 1, not 0"),
    ({"max_file_mb": -0.5}, "the file size limit must be a number of megabytes (0 for no limit), not -0.5"),
    ({"max_file_mb": float("nan")}, "the file size limit must be a number of megabytes (0 for no limit), not nan"),
])
def test_invalid_fields_raise(fields, message):
    with pytest.raises(QAError, match=f"^{re.escape(message)}$"):
        Settings(**fields)
    with pytest.raises(QAError, match=f"^{re.escape(message)}$"):
        Settings().with_(**fields)  # a copy is checked too


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_mode_is_accepted(mode):
    assert Settings(mode=mode).mode == mode


def test_with_changes_fields_and_ignores_none():
    base = Settings(k=7)
    s = base.with_(k=None, mode="dense", index=None, threads=2)
    assert (s.k, s.mode, s.index, s.threads) == (7, "dense", "index", 2)
    assert base.mode == "hybrid"  # the original is unchanged (frozen)
    assert base.with_() == base


def test_location_prefers_the_store():
    assert Settings(index="idx").location == "idx"
    assert Settings(index="idx", store="postgresql://h/db").location == "postgresql://h/db"


def test_max_file_bytes():
    assert MB == 1048576
    assert Settings().max_file_bytes == 20 * 1048576
    assert Settings(max_file_mb=1.5).max_file_bytes == 1572864
    assert Settings(max_file_mb=0.0001).max_file_bytes == 104  # int(104.8576)
    assert Settings(max_file_mb=0).max_file_bytes is None  # 0: no limit
    assert Settings.from_env({"QA_MAX_FILE_MB": "0"}).max_file_bytes is None
