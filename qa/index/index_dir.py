"""The index folder on disk: generations, the CURRENT pointer, the build lock and the manifest.

Layout::

    index/
      CURRENT             name of the live generation, replaced atomically
      .lock               held by the one build that may run at a time
      gen-000007/         live generation: manifest.json and the files it lists
      gen-000006/         the previous one, kept so readers that just read CURRENT can still open it

A generation's files are never changed once published. A build starts a private folder that holds the
live generation's files as **hard links** (no copy: the two generations share the bytes), writes its new
files beside them (files are replaced, never modified in place), writes a manifest with each file's
sha256, size and identity, fsyncs the new files, renames the folder into place and only then points
CURRENT at it. Only new files are hashed: a linked file keeps the record it had. A build killed at any
point leaves CURRENT on the last good generation; its temporary folder is swept away by the next build.

Opening checks every file's size against the manifest, and its sha256 when the file is small
(``FULL_CHECK_BYTES``) or is no longer the very file that was hashed (another inode or modification
time: anything that wrote to it). ``verify(full=True)`` hashes everything (``qa stats --verify``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

from qa.config import EMBED_DIM, FORMAT_VERSION, MODEL_NAME, ChunkerSettings
from qa.errors import IndexCorrupt, IndexIncompatible, IndexMissing, QAError

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
_GEN = re.compile(r"^gen-(\d{6,})$")
# Files at most this big are hashed on every open; bigger ones when they are not the file that was hashed.
FULL_CHECK_BYTES = 16 << 20
# Names a writing library (tantivy, ``lexical_index``) keeps for its own locking: never part of a generation.
IGNORED_NAMES = frozenset({".tantivy-meta.lock", ".tantivy-writer.lock"})
# Files a library replaces with a new copy rather than adding new files: a new generation copies them
# (they are small) instead of linking, so that nothing the previous generation links can change.
COPIED_NAMES = frozenset({"meta.json", ".managed.json"})


def expected_settings(chunker: ChunkerSettings | None = None) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "model": MODEL_NAME,
        "embed_dim": EMBED_DIM,
        "chunker": (chunker or ChunkerSettings()).as_dict(),
    }


def incompatibility(manifest: dict, chunker: ChunkerSettings | None = None) -> str | None:
    """Why an index (by its manifest) cannot be used with this version of the program (None if it can)."""
    for key, want in expected_settings(chunker).items():
        have = manifest.get(key)
        if have != want:
            return f"index was built with {key}={json.dumps(have)}, this version uses {json.dumps(want)}"
    return None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_record(path: Path) -> dict:
    """What the manifest keeps of a file: its sha256 and size, and its identity (inode, modification
    time) to tell later whether it is still the very file that was hashed."""
    st = path.stat()
    return {"sha256": sha256_file(path), "size": st.st_size, "inode": st.st_ino, "mtime_ns": st.st_mtime_ns}


def same_file(record: dict, st: os.stat_result) -> bool:
    """Whether the file ``st`` describes is still the one ``record`` (``file_record``) hashed: same inode,
    modification time and size (anything that writes to it moves the modification time)."""
    return (record.get("inode"), record.get("mtime_ns"), record.get("size")) == (st.st_ino, st.st_mtime_ns, st.st_size)


def generation_files(folder: Path) -> list[str]:
    """The files of a generation folder (relative, with forward slashes), sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name not in IGNORED_NAMES and p.name != MANIFEST)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IndexDir:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    # --- reading ---------------------------------------------------------------------------------

    def current(self) -> Path | None:
        try:
            name = (self.path / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexCorrupt(f"cannot read {self.path / CURRENT}: {exc.strerror}") from exc
        if not _GEN.match(name) or not (self.path / name).is_dir():
            raise IndexCorrupt(f"index at {self.path} points to a missing generation '{name}'; run: qa index --rebuild")
        return self.path / name

    def exists(self) -> bool:
        return (self.path / CURRENT).exists()

    def manifest(self, generation: Path | None = None) -> dict:
        generation = generation or self.current()
        if generation is None:
            raise IndexMissing(self.missing_message())
        try:
            return json.loads((generation / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"index manifest unreadable in {generation}; run: qa index --rebuild") from exc

    def missing_message(self) -> str:
        return f"no index at '{self.path}'; build one with: qa index FOLDER --index {self.path}"

    def verify(self, generation: Path, manifest: dict, full: bool = False) -> None:
        """Check each file against the manifest: size always; sha256 for small files, for files that are
        not the ones hashed at publish (see the module's notes) and, with ``full``, for all."""
        for name, record in manifest.get("files", {}).items():
            path = generation / name
            if not isinstance(record, dict):
                raise IndexCorrupt(f"index manifest unreadable in {generation}; run: qa index --rebuild")
            try:
                st = path.stat()
            except FileNotFoundError:
                raise IndexCorrupt(f"index file {path} is missing; run: qa index --rebuild") from None
            if st.st_size != record.get("size") or (
                (full or not same_file(record, st) or st.st_size <= FULL_CHECK_BYTES)
                and sha256_file(path) != record.get("sha256")
            ):
                raise IndexCorrupt(f"index file {path} is corrupted (checksum mismatch); run: qa index --rebuild")

    def open_generation(self) -> tuple[Path, dict]:
        """The live generation and its manifest, checked for compatibility and integrity."""
        for _ in range(3):  # a build may swap generations between reading CURRENT and opening
            generation = self.current()
            if generation is None:
                raise IndexMissing(self.missing_message())
            try:
                manifest = self.manifest(generation)
                reason = incompatibility(manifest)
                if reason:
                    raise IndexIncompatible(f"{reason}; run: qa index --rebuild")
                self.verify(generation, manifest)
                return generation, manifest
            except IndexCorrupt:
                if self.current() == generation:
                    raise
        raise IndexCorrupt(f"index at {self.path} keeps changing; try again")

    # --- writing ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: bool = True):
        """Exclusive build lock: a second build waits (or fails with wait=False)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QAError(f"cannot create index folder '{self.path}': {exc.strerror}") from exc
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    raise QAError(f"another 'qa index' is updating '{self.path}'; try again when it ends")
                log.info("waiting for another 'qa index' on '%s' to finish...", self.path)
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _generation_numbers(self) -> list[int]:
        nums = []
        for p in self.path.iterdir():
            m = _GEN.match(p.name)
            if m:
                nums.append(int(m.group(1)))
        return sorted(nums)

    def sweep(self) -> None:
        """Remove leftovers of killed builds and generations older than the previous one (hold the lock).
        With a damaged ``CURRENT`` only the leftovers go (a ``--rebuild`` replaces the pointer)."""
        for p in self.path.iterdir():
            if p.name.startswith("tmp-"):
                shutil.rmtree(p, ignore_errors=True)
        try:
            live = self.current()
        except IndexCorrupt:
            return
        nums = self._generation_numbers()
        keep = {live.name} if live else set()
        older = [n for n in nums if live is None or n < int(_GEN.match(live.name).group(1))]
        if older:
            keep.add(f"gen-{older[-1]:06d}")
        for n in nums:
            name = f"gen-{n:06d}"
            if name not in keep:
                shutil.rmtree(self.path / name, ignore_errors=True)

    def start_generation(self, base: Path | None, files: dict | None = None) -> Path:
        """A private folder for the next generation, holding hard links to ``files`` (a manifest's
        ``files``) of ``base`` if given (copies where the file system cannot link)."""
        tmp = self.path / f"tmp-{os.getpid()}-{int(time.time() * 1000)}"
        tmp.mkdir()
        try:
            for name in (files or {}) if base is not None else {}:
                src, dst = base / name, tmp / name
                dst.parent.mkdir(parents=True, exist_ok=True)
                if src.name in COPIED_NAMES:
                    shutil.copyfile(src, dst)
                    continue
                try:
                    os.link(src, dst)
                except OSError as exc:
                    if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
                        raise
                    shutil.copyfile(src, dst)
        except BaseException:  # a full disk mid-copy: leave nothing behind
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return tmp

    def publish(self, tmp: Path, manifest: dict, inherited: dict | None = None) -> Path:
        """Record every file (new files: fsync and sha256; files still linked to ``inherited`` records,
        the base manifest's ``files``, keep them), write the manifest, make everything durable, then
        switch CURRENT to it atomically."""
        inherited = inherited or {}
        files = {}
        for name in generation_files(tmp):
            path = tmp / name
            st = path.stat()
            old = inherited.get(name)
            if isinstance(old, dict) and same_file(old, st):
                files[name] = old
                continue
            _fsync(path)
            files[name] = file_record(path)
        manifest = dict(manifest, files=files)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        _fsync(tmp / MANIFEST)
        for folder in {(tmp / name).parent for name in files} | {tmp}:
            _fsync(folder)
        nums = self._generation_numbers()
        final = self.path / f"gen-{(nums[-1] + 1 if nums else 1):06d}"
        os.rename(tmp, final)
        pointer = self.path / f"{CURRENT}.tmp"
        with open(pointer, "w") as f:
            f.write(final.name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer, self.path / CURRENT)
        _fsync(self.path)
        return final

    def disk_bytes(self) -> int:
        """Bytes the folder takes, each file counted once however many generations link it."""
        seen, total = set(), 0
        for p in self.path.rglob("*"):
            if p.is_file():
                st = p.stat()
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_size
        return total


def describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or str(exc)
