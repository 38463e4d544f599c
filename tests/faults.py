"""Fault injection for the robustness tests: bad files made on the fly, and a wrapper that runs the real
``qa`` command with one fault planted (the product has no test hooks; faults live here only).

Run as ``python -m tests.faults FAULT -- qa-arguments...`` from the repository root. FAULT is one of:

- ``kill-in-faiss-write``: the FAISS file is half written, then the process is SIGKILLed
- ``kill-in-sqlite-commit``: SIGKILL when the build commits its SQLite transaction
- ``kill-after-rename``: SIGKILL right after the new generation folder is renamed into place, before
  ``CURRENT`` is switched
- ``kill-after-switch``: SIGKILL right after ``CURRENT`` is switched (before the final fsync and sweep)
- ``fsize=N``: files may not grow past N bytes (``RLIMIT_FSIZE``, SIGXFSZ ignored): every write past
  that fails with a real ``EFBIG`` error ("File too large"), as on a full disk
- ``fsize-at-faiss-write`` / ``fsize-at-sqlite-commit``: the same limit (4 KiB), set just before the
  FAISS file is written / the SQLite transaction is committed, so that real write fails there
- ``hold-in-sqlite-commit=PATH``: the build stops when it commits its SQLite transaction (holding the
  build lock) until PATH exists, then goes on
- ``audit=LOG``: no fault; a ``sys.addaudithook`` hook logs every file-system write (one JSON line each)
  to LOG
- ``none``: no fault
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# --- bad documents ---------------------------------------------------------------------------------------


def make_encrypted_pdf(path: Path, source: Path, user_password: str = "secret") -> Path:
    """``source`` encrypted with RC4-128 (AES needs the optional 'cryptography' package)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(source))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    writer.write(str(path))
    return path


def make_truncated_pdf(path: Path, source: Path, fraction: float = 0.6) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def make_scanned_pdf(path: Path, tmp: Path, text: str = "The treaty was signed in Lisbon in 1494.") -> Path:
    """A PDF whose only page is a picture of ``text`` (what a scanner makes): no text layer at all. An
    empty ``text`` makes a scan of a blank page, which not even OCR can read."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).text((20, 80), text, fill="black")
    png = tmp / "scan.png"
    image.save(png)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(png), x=10, y=10, w=180)
    pdf.output(str(path))
    return path


def make_png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 64), (200, 30, 30)).save(path, format="PNG")
    return path


def write_big_text(path: Path, megabytes: int) -> Path:
    """A plain-text file of about ``megabytes`` MB, written in blocks (never held in memory whole)."""
    block = ("The river carried silt from the northern hills down to the delta every spring. " * 12 + "\n\n")
    block_bytes = block.encode()
    with open(path, "wb") as f:
        for _ in range(megabytes * 1024 * 1024 // len(block_bytes) + 1):
            f.write(block_bytes)
    return path


def make_deep_folder(root: Path, levels: int, name: str = "level") -> Path:
    """``levels`` nested folders under ``root`` (made one at a time: no recursion, no path length limit
    while making them); returns the innermost folder's path."""
    fd = os.open(root, os.O_RDONLY)
    parts = []
    try:
        for i in range(levels):
            part = name.format(i=i) if "{" in name else name
            os.mkdir(part, dir_fd=fd)
            new = os.open(part, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
            parts.append(part)
    finally:
        os.close(fd)
    return root.joinpath(*parts)


def write_deep_file(root: Path, folders: list[str], name: str, text: str) -> None:
    """Write ``root/folders.../name`` even when the whole path is longer than PATH_MAX."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for part in folders:
            new = os.open(part, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=fd)
        with os.fdopen(out, "w") as f:
            f.write(text)
    finally:
        os.close(fd)


def remove_tree(top: Path) -> None:
    """``rm -r`` without recursion and without long paths (every step is relative to an open folder):
    pytest's own clean-up (shutil.rmtree) overflows Python's stack on a tree 1,000 folders deep."""
    flags = os.O_RDONLY | os.O_DIRECTORY
    stack = [(os.open(top, flags), None, None)]  # (folder fd, parent fd, name in parent)
    while stack:
        fd, parent, name = stack[-1]
        subdir = None
        for entry in list(os.scandir(fd)):
            if entry.is_dir(follow_symlinks=False):
                subdir = entry.name
                break
            os.unlink(entry.name, dir_fd=fd)
        if subdir is not None:
            stack.append((os.open(subdir, flags, dir_fd=fd), fd, subdir))
            continue
        stack.pop()
        os.close(fd)
        if parent is None:
            os.rmdir(top)
        else:
            os.rmdir(name, dir_fd=parent)


_SKIP_LINE = re.compile(r"^skipped (.+?): (.+)$")


def skipped_lines(stderr: str) -> dict[str, str]:
    """``{source: reason}`` from the ``skipped SOURCE: REASON`` lines of ``qa index``."""
    out = {}
    for line in stderr.splitlines():
        m = _SKIP_LINE.match(line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


# --- the index on disk -----------------------------------------------------------------------------------


def index_listing(index: Path) -> dict[str, bytes]:
    """Every file of an index folder (relative path -> content), to prove a fault changed nothing."""
    return {p.relative_to(index).as_posix(): p.read_bytes() for p in sorted(index.rglob("*")) if p.is_file()}


def answer_dict(answerer, question: str) -> dict:
    d = answerer.ask(question).to_dict()
    d.pop("timings_ms")
    return d


# --- the fault wrapper -----------------------------------------------------------------------------------


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_in_faiss_write() -> None:
    import faiss

    write_index = faiss.write_index

    def half_written(index, path, *args):
        if not isinstance(path, (str, os.PathLike)):  # faiss.serialize_index writes to a buffer
            return write_index(index, path, *args)
        write_index(index, path, *args)
        os.truncate(path, os.path.getsize(path) // 2)
        _die()

    faiss.write_index = half_written


def _before_sqlite_commit(action) -> None:
    """Run ``action()`` whenever a connection commits an open transaction, just before the commit."""
    import sqlite3

    class Hooked(sqlite3.Connection):
        def commit(self):
            if self.in_transaction:
                action()
            return super().commit()

    connect = sqlite3.connect

    def connect_hooked(*args, **kwargs):
        kwargs.setdefault("factory", Hooked)
        return connect(*args, **kwargs)

    sqlite3.connect = connect_hooked


def _kill_in_sqlite_commit() -> None:
    _before_sqlite_commit(_die)


def _kill_around_publish(after: str) -> None:
    rename, replace = os.rename, os.replace

    def rename_then_die(src, dst, *a, **kw):
        rename(src, dst, *a, **kw)
        if after == "rename" and re.match(r"gen-\d+$", Path(dst).name):
            _die()

    def replace_then_die(src, dst, *a, **kw):
        replace(src, dst, *a, **kw)
        if after == "switch" and Path(dst).name == "CURRENT":
            _die()

    os.rename, os.replace = rename_then_die, replace_then_die


def _hold_in_sqlite_commit(release: str) -> None:
    import time

    def hold() -> None:
        while not os.path.exists(release):
            time.sleep(0.02)

    _before_sqlite_commit(hold)


def _limit_file_size(limit: int) -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def _limit_file_size_at(where: str) -> None:
    if where == "faiss-write":
        import faiss

        write_index = faiss.write_index

        def limited(*args, **kwargs):
            _limit_file_size(4096)
            return write_index(*args, **kwargs)

        faiss.write_index = limited
    elif where == "sqlite-commit":
        _before_sqlite_commit(lambda: _limit_file_size(4096))
    else:
        raise SystemExit(f"unknown place {where}")


_WRITE_EVENTS = {
    "os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "os.truncate", "os.link", "os.symlink",
    "os.chmod", "os.chown", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.copytree", "shutil.move",
    "sqlite3.connect", "tempfile.mkstemp", "tempfile.mkdtemp",
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _audit(log_path: str) -> None:
    """Log every event that may write to the file system, with the absolute paths it names."""
    log = os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "w", buffering=1)
    cwd = os.getcwd()

    def absolute(p):
        if isinstance(p, bytes):
            p = os.fsdecode(p)
        if not isinstance(p, str):
            return None  # a file descriptor
        if p.startswith("file:"):  # an SQLite URI
            p = p[5:].split("?", 1)[0]
        return os.path.normpath(os.path.join(cwd, p))

    def hook(event, args):
        paths = None
        if event == "open":
            path, mode, flags = args
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writes:
                paths = [path]
        elif event in _WRITE_EVENTS:
            paths = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
            if event == "sqlite3.connect" and args and ":memory:" in str(args[0]):
                paths = []
        if paths:
            record = {"event": event, "paths": [absolute(os.fspath(p)) for p in paths]}
            os.write(log.fileno(), (json.dumps(record) + "\n").encode())

    sys.addaudithook(hook)


def main(argv: list[str]) -> int:
    fault, sep, qa_args = argv[0], argv[1], argv[2:]
    assert sep == "--", "usage: python -m tests.faults FAULT -- QA-ARGS..."
    if fault == "kill-in-faiss-write":
        _kill_in_faiss_write()
    elif fault == "kill-in-sqlite-commit":
        _kill_in_sqlite_commit()
    elif fault == "kill-after-rename":
        _kill_around_publish("rename")
    elif fault == "kill-after-switch":
        _kill_around_publish("switch")
    elif fault.startswith("fsize="):
        _limit_file_size(int(fault.split("=", 1)[1]))
    elif fault.startswith("fsize-at-"):
        _limit_file_size_at(fault[len("fsize-at-"):])
    elif fault.startswith("hold-in-sqlite-commit="):
        _hold_in_sqlite_commit(fault.split("=", 1)[1])
    elif fault.startswith("audit="):
        _audit(fault.split("=", 1)[1])
    elif fault != "none":
        raise SystemExit(f"unknown fault {fault}")
    from qa.cli import main as qa_main

    return qa_main(qa_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
