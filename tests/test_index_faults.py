"""Index faults: no index, damaged files, two builds at once, builds killed or failing while they write,
and what the program writes where. Faults are planted by ``tests/faults.py`` in real ``qa`` processes."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa import Answerer, build_index
from qa.errors import IndexCorrupt

from .conftest import JAPAN_Q, ROOT, SEEDS, run_qa
from .faults import answer_dict, index_listing

FAULTS = Path(__file__).resolve().parent / "faults.py"
KYOTO = "Kyoto was the capital of Japan for over a thousand years, until the court moved to Tokyo in 1869."
KYOTO_Q = "Which city was the capital of Japan for over a thousand years?"
NARA = "Nara was the seat of the imperial court from 710 until 784, when the capital moved to Nagaoka."
# The files of the first segment of a one-build index (see qa.index.segment)
SEGMENT_SQLITE, SEGMENT_FAISS = "seg-000001.sqlite", "seg-000001.faiss"


def run_fault(fault, *args, env=None, cwd=ROOT, timeout=300):
    """The real ``qa`` command with one fault planted (see tests/faults.py)."""
    return subprocess.run(
        [sys.executable, str(FAULTS), fault, "--", *map(str, args)],
        capture_output=True, text=True, env=dict(os.environ, **(env or {})), cwd=cwd, timeout=timeout,
    )


def one_error_line(r) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("qa: error: ")
    return lines[0]


def live(index: Path) -> str:
    return (index / "CURRENT").read_text().strip()


def entries(index: Path) -> set[str]:
    return {p.name for p in index.iterdir()}


def heuristic(index, embedder):
    return Answerer(index, embedder=embedder, reader="heuristic")


def sources(answer: dict) -> set[str]:
    return {c["source"] for c in answer["citations"]} | {p["source"] for p in answer["passages"]}


# --- no index, damaged index ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["no folder", "empty folder"])
def test_asking_before_any_index_exists_says_how_to_build_one(tmp_path, state):
    index = tmp_path / "index"
    if state == "empty folder":
        index.mkdir()
    r = run_qa("ask", JAPAN_Q, "--index", index)
    assert r.returncode == 2
    line = one_error_line(r)
    assert "no index" in line and f"qa index FOLDER --index {index}" in line
    assert r.stdout == ""
    if state == "no folder":
        assert not index.exists(), "asking must not create the index folder"


@pytest.mark.parametrize("name,damage", [(SEGMENT_SQLITE, "flip bytes"), (SEGMENT_FAISS, "truncate"), ("lexical/meta.json", "flip bytes")])
def test_a_damaged_index_file_is_reported_in_one_line_and_qa_index_rebuild_recovers(
    tmp_path, seed_index, embedder, name, damage
):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    path = index / live(index) / name
    data = bytearray(path.read_bytes())
    if damage == "flip bytes":
        for i in range(len(data) // 3, len(data) // 3 + 16):
            data[i] ^= 0x5A
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))

    r = run_qa("ask", JAPAN_Q, "--index", index)
    assert r.returncode == 2 and r.stdout == ""
    line = one_error_line(r)
    assert name in line and "corrupted" in line and "qa index --rebuild" in line

    r = run_qa("index", SEEDS, "--index", index, "-q")  # an update cannot start from a damaged index
    assert r.returncode == 2
    assert "--rebuild" in one_error_line(r)

    if name == SEGMENT_SQLITE:  # what the message says, as a user would run it
        r = run_qa("index", SEEDS, "--index", index, "--rebuild", "-q")
        assert r.returncode == 0, r.stderr
        assert "1 added" in r.stdout
    else:  # the same code path, without loading the model in one more process
        build_index(SEEDS, index, rebuild=True, embedder=embedder, progress=False)
    assert heuristic(index, embedder).ask(JAPAN_Q).answer == "$16 billion"


@pytest.mark.parametrize("damage", ["truncate the segment's SQLite", "garbage manifest.json", "delete the segment's FAISS file"])
def test_other_damage_is_detected_on_open_and_a_rebuild_recovers(tmp_path, seed_index, embedder, damage):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    generation = index / live(index)
    if damage == "truncate the segment's SQLite":
        os.truncate(generation / SEGMENT_SQLITE, 4096)
    elif damage == "garbage manifest.json":
        (generation / "manifest.json").write_bytes(b"\x00\xff{not json")
    else:
        (generation / SEGMENT_FAISS).unlink()
    with pytest.raises(IndexCorrupt, match="qa index --rebuild"):
        Answerer(index, embedder=embedder, reader="heuristic")
    build_index(SEEDS, index, rebuild=True, embedder=embedder, progress=False)
    assert heuristic(index, embedder).ask(JAPAN_Q).answer == "$16 billion"


@pytest.mark.parametrize("pointer", ["gen-000042\n", "\x00garbage\n"])
def test_a_damaged_current_pointer_is_repaired_by_a_rebuild(tmp_path, seed_index, embedder, pointer):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    (index / "CURRENT").write_text(pointer)
    with pytest.raises(IndexCorrupt, match="qa index --rebuild"):
        Answerer(index, embedder=embedder, reader="heuristic")
    build_index(SEEDS, index, rebuild=True, embedder=embedder, progress=False)  # what the message says to do
    assert heuristic(index, embedder).ask(JAPAN_Q).answer == "$16 billion"


# --- two builds at once; builds killed or failing while they write ---------------------------------------------------------------


@pytest.fixture(scope="module")
def two_documents(tmp_path_factory, embedder):
    """seeds/ plus kyoto.txt, indexed once, with the answers it gives; each test works on a copy."""
    root = tmp_path_factory.mktemp("two-documents")
    corpus = root / "docs"
    shutil.copytree(SEEDS, corpus)
    (corpus / "kyoto.txt").write_text(KYOTO)
    index = root / "index"
    build_index(corpus, index, embedder=embedder, progress=False)
    answerer = heuristic(index, embedder)
    before = {q: answer_dict(answerer, q) for q in (JAPAN_Q, KYOTO_Q)}
    assert "kyoto.txt" in sources(before[KYOTO_Q])
    return corpus, index, before


@pytest.fixture
def pending_removal(two_documents, tmp_path):
    """A copy of the two-document index whose corpus lost kyoto.txt and gained nara.txt: the next build
    removes one and adds the other, so it writes a new segment (SQLite, FAISS), the lexical index, the
    manifest and CURRENT."""
    corpus, index, before = two_documents
    shutil.copytree(corpus, tmp_path / "docs")
    shutil.copytree(index, tmp_path / "index")
    (tmp_path / "docs" / "kyoto.txt").unlink()
    (tmp_path / "docs" / "nara.txt").write_text(NARA)
    return tmp_path / "docs", tmp_path / "index", before


def _flock_holders(path: Path) -> tuple[set[int], set[int]]:
    """(pids holding, pids waiting for) a flock on ``path``, from /proc/locks."""
    ino = os.stat(path).st_ino
    holding, waiting = set(), set()
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        blocked = len(parts) > 1 and parts[1] == "->"
        if blocked:
            parts = parts[:1] + parts[2:]
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].endswith(f":{ino}"):
            (waiting if blocked else holding).add(int(parts[4]))
    return holding, waiting


def _wait_for(predicate, procs, what, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for p in procs:
            assert p.poll() is None, f"a build ended before {what}: {p.communicate()}"
        time.sleep(0.05)
    pytest.fail(f"timed out waiting until {what}")


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs /proc/locks to see who holds the lock")
def test_two_qa_index_runs_at_once_the_second_waits_and_the_index_stays_whole(pending_removal, embedder):
    """The first build is held in the middle of writing (SQLite commit) while a second one starts."""
    corpus, index, before = pending_removal
    release = index.parent / "release"
    args = ["index", str(corpus), "--index", str(index), "-q"]
    run = dict(cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = subprocess.Popen([sys.executable, str(FAULTS), f"hold-in-sqlite-commit={release}", "--", *args], **run)
    procs = [first]
    try:
        lock = index / ".lock"
        _wait_for(lambda: first.pid in _flock_holders(lock)[0], procs, "the first build holds the lock")
        second = subprocess.Popen([sys.executable, "-m", "qa", *args], **run)
        procs.append(second)
        _wait_for(lambda: second.pid in _flock_holders(lock)[1], procs, "the second build waits for the lock")
        assert live(index) == "gen-000001"
        answer = answer_dict(heuristic(index, embedder), KYOTO_Q)  # readers meanwhile see the whole old index
        assert answer == before[KYOTO_Q]
        release.touch()
        out1, err1 = first.communicate(timeout=300)
        out2, err2 = second.communicate(timeout=300)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    assert "Traceback" not in err1 + err2
    assert "1 removed" in out1
    assert "waiting for another 'qa index'" in err2
    assert "0 added, 0 updated, 0 removed, 2 unchanged" in out2  # it started from the first build's index
    assert entries(index) == {".lock", "CURRENT", "gen-000001", "gen-000002"} and live(index) == "gen-000002"
    answer = answer_dict(heuristic(index, embedder), KYOTO_Q)
    assert "kyoto.txt" not in sources(answer)


def _assert_the_previous_index_answers_as_before(index, embedder, before, generation, files):
    assert live(index) == generation
    assert {k: v for k, v in index_listing(index).items() if k.startswith(generation + "/")} == files
    answerer = heuristic(index, embedder)
    for question, expected in before.items():
        assert answer_dict(answerer, question) == expected


def _assert_the_next_build_recovers(corpus, index, embedder):
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.removed == ["kyoto.txt"] and report.added == ["nara.txt"]
    assert entries(index) == {".lock", "CURRENT", "gen-000001", "gen-000002"}, "leftovers were not swept"
    assert live(index) == "gen-000002"
    answer = answer_dict(heuristic(index, embedder), KYOTO_Q)
    assert "kyoto.txt" not in sources(answer)


@pytest.mark.parametrize("fault", ["kill-in-sqlite-commit", "kill-in-faiss-write", "kill-after-rename"])
def test_a_build_killed_while_writing_leaves_the_previous_index_answering_the_same(pending_removal, embedder, fault):
    corpus, index, before = pending_removal
    generation = live(index)
    files = {k: v for k, v in index_listing(index).items() if k.startswith(generation + "/")}

    r = run_fault(fault, "index", corpus, "--index", index, "-q")
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    left = entries(index) - {".lock", "CURRENT", generation}
    assert left, "the killed build had written something aside"
    if fault == "kill-in-faiss-write":
        assert any(list((index / name).glob("seg-*.faiss")) for name in left)
    if fault == "kill-after-rename":
        assert "gen-000002" in left and (index / "gen-000002" / "manifest.json").exists()

    _assert_the_previous_index_answers_as_before(index, embedder, before, generation, files)
    _assert_the_next_build_recovers(corpus, index, embedder)


def test_a_build_killed_just_after_switching_current_leaves_the_new_index_whole(pending_removal, embedder):
    corpus, index, before = pending_removal
    r = run_fault("kill-after-switch", "index", corpus, "--index", index, "-q")
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert live(index) == "gen-000002"
    answerer = heuristic(index, embedder)  # opens with the manifest's checksums verified
    answer = answer_dict(answerer, JAPAN_Q)  # the same answer (scores move: one document fewer)
    assert (answer["answer"], answer["citations"]) == (before[JAPAN_Q]["answer"], before[JAPAN_Q]["citations"])
    assert "kyoto.txt" not in sources(answer_dict(answerer, KYOTO_Q))
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert not report.changed and live(index) == "gen-000002"


@pytest.mark.parametrize("place", ["any file past 1 KiB", "sqlite-commit", "faiss-write"])
def test_a_write_error_keeps_the_previous_index_and_is_reported_in_one_line(pending_removal, embedder, place):
    """Files may not grow past a limit (RLIMIT_FSIZE): real EFBIG write errors, as on a full disk."""
    corpus, index, before = pending_removal
    generation = live(index)
    files = {k: v for k, v in index_listing(index).items() if k.startswith(generation + "/")}
    if place == "any file past 1 KiB":
        fault = "fsize=1024"
    else:
        fault = f"fsize-at-{place}"

    r = run_fault(fault, "index", corpus, "--index", index, "-q")
    assert r.returncode == 2, r.stderr
    line = one_error_line(r)
    assert "could not write the index" in line and "previous index is unchanged" in line
    _assert_the_previous_index_answers_as_before(index, embedder, before, generation, files)
    _assert_the_next_build_recovers(corpus, index, embedder)


def test_a_write_error_leaves_no_partial_generation_behind(pending_removal):
    corpus, index, _ = pending_removal
    before = entries(index)
    r = run_fault("fsize=1024", "index", corpus, "--index", index, "-q")
    assert r.returncode == 2
    assert entries(index) == before, "a full disk must not be left fuller"


def test_an_update_links_the_unchanged_files_instead_of_copying_them(pending_removal, embedder):
    """The new generation shares the first segment's files with the previous one (same inodes): only the
    new segment and the lexical index's new files take space."""
    corpus, index, _ = pending_removal
    old = index / live(index)
    build_index(corpus, index, embedder=embedder, progress=False)
    new = index / live(index)
    assert new != old
    for name in (SEGMENT_SQLITE, SEGMENT_FAISS, "seg-000001.sentences"):
        assert (new / name).stat().st_ino == (old / name).stat().st_ino, name
    manifest = json.loads((new / "manifest.json").read_text())
    assert manifest["store"]["segments"][0] == {"name": "seg-000001", "deleted_docs": [2]}  # kyoto.txt's id
    assert len(manifest["store"]["segments"]) == 2


# --- where the program writes ---------------------------------------------------------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else b"/")
            for p in sorted(folder.rglob("*"))}


def _fresh_environment(tmp_path: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Empty HOME, TMPDIR, XDG folders and working folder, and an environment that points at them
    (no cache variable of ours or the libraries' left over from the machine)."""
    fresh = {name: tmp_path / name for name in ("home", "tmp", "cache", "config", "data", "cwd")}
    for folder in fresh.values():
        folder.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "TRANSFORMERS_", "TORCH", "TIKTOKEN", "XDG_", "SENTENCE_TRANSFORMERS"))}
    env.update(HOME=str(fresh["home"]), TMPDIR=str(fresh["tmp"]), XDG_CACHE_HOME=str(fresh["cache"]),
               XDG_CONFIG_HOME=str(fresh["config"]), XDG_DATA_HOME=str(fresh["data"]),
               PYTHONDONTWRITEBYTECODE="1")  # the interpreter's own bytecode cache is not the program's doing
    return fresh, env


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """``qa index`` then ``qa ask`` in fresh, empty HOME / TMPDIR / XDG folders and working folder, each
    under an audit hook that logs every write the Python code makes (files opened for writing, folders
    made, renames, removals, SQLite opens)."""
    tmp_path = tmp_path_factory.mktemp("audited")
    fresh, env = _fresh_environment(tmp_path)
    corpus = tmp_path / "docs"
    shutil.copytree(SEEDS, corpus)
    (corpus / "kyoto.md").write_text("# Kyoto\n\n" + KYOTO + "\n")
    index = tmp_path / "index"
    corpus_before = _tree(corpus)
    logs, outputs = [], []
    for args in (["index", corpus, "--index", index, "-q"], ["ask", KYOTO_Q, "--index", index, "--json"]):
        log = tmp_path / f"audit-{args[0]}.jsonl"
        r = subprocess.run([sys.executable, str(FAULTS), f"audit={log}", "--", *map(str, args)],
                           capture_output=True, text=True, env=env, cwd=fresh["cwd"], timeout=300)
        assert r.returncode == 0, r.stderr
        logs.append([json.loads(line) for line in log.read_text().splitlines()])
        outputs.append(r.stdout)
    return dict(fresh=fresh, corpus=corpus, corpus_before=corpus_before, index=index, logs=logs, outputs=outputs)


TORCH_CACHE_DIR = ROOT / "qa" / "models"


def _torch_import_writes(event: dict, tmpdir: Path) -> bool:
    """What torch does in $TMPDIR when transformers imports it (qa compiles nothing): tempfile's
    writability probe (a random 8-character file, removed at once) and ``torchinductor_$USER``."""
    paths = [Path(p) for p in event["paths"] if p]
    if len(paths) == 1 and event["event"] == "os.mkdir" and paths[0] == TORCH_CACHE_DIR:
        return True  # qa points TORCHINDUCTOR_CACHE_DIR at this existing folder: an attempt that writes nothing
    return len(paths) == 1 and paths[0].parent == tmpdir and (
        (event["event"] in ("open", "os.remove") and re.fullmatch(r"[a-z0-9_]{8}", paths[0].name) is not None)
        or (event["event"] == "os.mkdir" and paths[0].name.startswith("torchinductor_"))
    )


def test_qa_index_and_ask_write_only_inside_the_index_folder(audited):
    assert json.loads(audited["outputs"][1])["passages"][0]["source"] == "kyoto.md"
    root = os.path.realpath(audited["index"])
    tmpdir = audited["fresh"]["tmp"]
    index_log, ask_log = audited["logs"]
    for log in (index_log, ask_log):
        assert log, "the audit hook saw nothing: it is not working"
        outside = [e for e in log if not _torch_import_writes(e, tmpdir)
                   for p in e["paths"] if p and os.path.commonpath([os.path.realpath(p), root]) != root]
        assert outside == []
    assert {"open", "os.mkdir", "os.rename", "sqlite3.connect"} <= {e["event"] for e in index_log}
    assert [e["event"] for e in ask_log if not _torch_import_writes(e, tmpdir)] == ["sqlite3.connect"], \
        "asking only opens the index database"


def test_qa_index_and_ask_leave_home_caches_working_folder_and_documents_untouched(audited):
    for name, folder in audited["fresh"].items():
        if name != "tmp":
            assert list(folder.iterdir()) == [], f"something was written to the fresh {name} folder"
    assert _tree(audited["corpus"]) == audited["corpus_before"], "the documents folder is only read"


def test_qa_index_and_ask_leave_tmpdir_untouched(audited):
    assert list(audited["fresh"]["tmp"].iterdir()) == []
