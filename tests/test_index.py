import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from qa import Answerer, build_index
from qa.errors import IndexCorrupt, IndexIncompatible
from qa.index.index_dir import IndexDir
from qa.index.store import REBUILD_ASKED, open_index
from qa.index.store_embedded import EmbeddedStore

from .conftest import JAPAN_Q, ROOT, SEEDS, run_qa
from .fixtures import make_corpus


def chunk_map(location):
    """{source: [(chunk id, text), ...]} of the live index."""
    store, _, _ = open_index(location).open()
    try:
        out = {}
        for d in store.documents():
            ids = store.chunk_ids_of(d.source)
            out[d.source] = [(c.id, c.text) for c in store.chunks(ids)]
        return out
    finally:
        store.close()


class ExplodingEmbedder:
    def __getattr__(self, name):
        raise AssertionError("the model must not be used when nothing changed")


def test_incremental_add_modify_delete_touch_exactly_those_documents(tmp_path, embedder, location):
    corpus = make_corpus(tmp_path / "docs")
    (corpus / "keep.txt").write_text("The lighthouse at Pharos stood on an island off Alexandria.")
    (corpus / "change.txt").write_text("The Suez Canal opened in 1869.")
    (corpus / "drop.txt").write_text("Penguins live mostly in the Southern Hemisphere.")
    index = location
    first = build_index(corpus, index, embedder=embedder, progress=False)
    assert len(first.added) == 6 and first.model_loaded
    before = chunk_map(index)

    again = build_index(corpus, index, embedder=ExplodingEmbedder(), progress=False)
    assert not again.changed and not again.model_loaded and len(again.unchanged) == 6
    assert open_index(index).version_name() in ("gen-000001", "version 1")  # nothing rewritten

    (corpus / "change.txt").write_text("The Suez Canal opened in November 1869 after ten years of work.")
    (corpus / "drop.txt").unlink()
    (corpus / "new.txt").write_text("Mount Kilimanjaro is the highest mountain in Africa.")
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert (report.added, report.updated, report.removed) == (["new.txt"], ["change.txt"], ["drop.txt"])
    assert len(report.unchanged) == 4
    after = chunk_map(index)
    for source in report.unchanged:
        assert after[source] == before[source], f"{source} must keep its chunks (same ids)"
    assert "drop.txt" not in after and "new.txt" in after
    assert after["change.txt"] != before["change.txt"]
    assert "November 1869" in after["change.txt"][0][1]
    store, _, _ = open_index(index).open()
    assert store.n_chunks == sum(len(v) for v in after.values())
    if isinstance(store, EmbeddedStore):  # FAISS and SQLite agree
        assert store.vector_count == store.n_chunks
    else:  # BM25's document frequencies were kept in step with the chunks
        assert store.document_frequencies(["suez", "penguin", "kilimanjaro"]) == {"suez": 1, "kilimanjaro": 1}
    store.close()

    answer = Answerer(index, embedder=embedder).ask("What is the highest mountain in Africa?")
    assert answer.citations and answer.citations[0].source == "new.txt"
    if isinstance(index, str):
        return
    # only the live and the previous generation are kept
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("gen-")) == ["gen-000001", "gen-000002"]


def test_rebuild_starts_over_and_an_incompatible_index_is_refused_then_rebuilt(tmp_path, embedder):
    index = tmp_path / "index"
    build_index(SEEDS, index, embedder=embedder, progress=False)
    gen = IndexDir(index).current()
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["model"] = "some/other-model"
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match="other-model"):
        Answerer(index, embedder=embedder)
    report = build_index(SEEDS, index, embedder=embedder, progress=False)
    assert report.rebuilt and "other-model" in report.rebuilt
    assert Answerer(index, embedder=embedder).ask(JAPAN_Q).answer == "$16 billion"
    report = build_index(SEEDS, index, rebuild=True, embedder=embedder, progress=False)
    assert report.rebuilt == REBUILD_ASKED and report.chunks_added == report.chunks


def test_an_index_of_the_older_layout_is_refused_then_rebuilt_by_qa_index(tmp_path, embedder):
    """Indexes before the segment layout held one meta.sqlite + vectors.faiss copy per generation."""
    index = tmp_path / "index"
    build_index(SEEDS, index, embedder=embedder, progress=False)
    gen = IndexDir(index).current()
    manifest = json.loads((gen / "manifest.json").read_text())
    del manifest["store"]  # what a layout-1 manifest looks like to this version
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match="layout 1.*qa index --rebuild"):
        Answerer(index, embedder=embedder)
    report = build_index(SEEDS, index, embedder=embedder, progress=False)
    assert report.rebuilt and "store layout 1" in report.rebuilt
    assert Answerer(index, embedder=embedder).ask(JAPAN_Q).answer == "$16 billion"


def test_a_corrupted_index_file_is_detected(tmp_path, embedder):
    index = tmp_path / "index"
    build_index(SEEDS, index, embedder=embedder, progress=False)
    faiss_file = IndexDir(index).current() / "seg-000001.faiss"
    data = bytearray(faiss_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    faiss_file.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="rebuild"):
        Answerer(index, embedder=embedder)
    build_index(SEEDS, index, rebuild=True, embedder=embedder, progress=False)
    assert Answerer(index, embedder=embedder).ask(JAPAN_Q).answer == "$16 billion"


KILL_SCRIPT = """
import sys, time, pathlib
from qa import build_index
from qa.index.embedder import Embedder

class Slow(Embedder):
    def encode_chunks(self, *a, **kw):
        pathlib.Path(sys.argv[3]).write_text("embedding")
        time.sleep(600)

build_index(sys.argv[1], sys.argv[2], embedder=Slow(), progress=False)
"""


def test_a_build_killed_mid_embedding_leaves_the_previous_index_answering(tmp_path, embedder, location):
    corpus = tmp_path / "docs"
    shutil.copytree(SEEDS, corpus)
    index = location
    build_index(corpus, index, embedder=embedder, progress=False)
    before = Answerer(index, embedder=embedder).ask(JAPAN_Q).to_dict()

    (corpus / "extra.txt").write_text("Kyoto was the capital of Japan for over a thousand years.")
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(corpus), str(index), str(marker)], cwd=ROOT)
    try:
        for _ in range(600):
            if marker.exists():
                break
            time.sleep(0.1)
        assert marker.exists(), "the build never reached embedding"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    embedded = not isinstance(index, str)
    if embedded:
        assert any(p.name.startswith("tmp-") for p in index.iterdir()), "the killed build was working aside"

    after = Answerer(index, embedder=embedder).ask(JAPAN_Q).to_dict()
    for d in (before, after):
        d.pop("timings_ms")
    assert after == before

    report = build_index(corpus, index, embedder=embedder, progress=False)  # the next build recovers
    assert report.added == ["extra.txt"]
    if embedded:
        assert not any(p.name.startswith("tmp-") for p in index.iterdir())


def test_opening_hashes_big_files_only_when_they_changed_and_stats_verify_hashes_everything(tmp_path, embedder,
                                                                                             monkeypatch):
    from qa.index import index_dir

    index = tmp_path / "index"
    build_index(SEEDS, index, embedder=embedder, progress=False)
    monkeypatch.setattr(index_dir, "FULL_CHECK_BYTES", 0)  # every file counts as big here
    path = IndexDir(index).current() / "seg-000001.sqlite"
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    with open(path, "r+b") as f:  # same inode; the modification time put back: bit rot, in effect
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    Answerer(index, embedder=embedder, reader="heuristic")  # not hashed on open: still the same file
    with pytest.raises(IndexCorrupt, match="seg-000001.sqlite is corrupted"):
        open_index(index).verify(full=True)
    os.utime(path)  # any ordinary write also moves the modification time: then opening hashes it
    with pytest.raises(IndexCorrupt, match="seg-000001.sqlite is corrupted"):
        Answerer(index, embedder=embedder, reader="heuristic")
    r = run_qa("stats", "--index", index, "--verify")
    assert r.returncode == 2 and "seg-000001.sqlite is corrupted" in r.stderr and "Traceback" not in r.stderr
    build_index(SEEDS, index, rebuild=True, embedder=embedder, progress=False)
    r = run_qa("stats", "--index", index, "--verify")
    assert r.returncode == 0 and "files match their sha256" in r.stdout, r.stderr
