"""The index folder on disk: generations, the CURRENT pointer, the build lock and the manifest.

Layout::

    index/
      CURRENT             name of the live generation, replaced atomically
      .lock               held by the one build that may run at a time
      gen-000007/         live generation: manifest.json, meta.sqlite, vectors.faiss
      gen-000006/         the previous one, kept so readers that just read CURRENT can still open it

A build copies the live generation into a temporary folder, changes the copy, writes a manifest with
each file's sha256, fsyncs, renames the folder into place and only then points CURRENT at it. A build
killed at any point leaves CURRENT on the last good generation; its temporary folder is swept away by
the next build.
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

META_FILE = "meta.sqlite"
VECTORS_FILE = "vectors.faiss"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
_GEN = re.compile(r"^gen-(\d{6,})$")


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

    def verify(self, generation: Path, manifest: dict) -> None:
        """Check each file against the sha256 the manifest recorded."""
        for name, digest in manifest.get("files", {}).items():
            path = generation / name
            if not path.exists():
                raise IndexCorrupt(f"index file {path} is missing; run: qa index --rebuild")
            if sha256_file(path) != digest:
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

    def start_generation(self, base: Path | None) -> Path:
        """A private folder for the next generation, holding a copy of ``base`` if given."""
        tmp = self.path / f"tmp-{os.getpid()}-{int(time.time() * 1000)}"
        tmp.mkdir()
        try:
            if base is not None:
                for name in (META_FILE, VECTORS_FILE):
                    if (base / name).exists():
                        shutil.copyfile(base / name, tmp / name)
        except BaseException:  # a full disk mid-copy: leave nothing behind
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return tmp

    def publish(self, tmp: Path, manifest: dict) -> Path:
        """Write the manifest, make everything durable, then switch CURRENT to it atomically."""
        files = {}
        for name in (META_FILE, VECTORS_FILE):
            _fsync(tmp / name)
            files[name] = sha256_file(tmp / name)
        manifest = dict(manifest, files=files)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        _fsync(tmp / MANIFEST)
        _fsync(tmp)
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


def describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or str(exc)
