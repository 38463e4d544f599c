"""Putting uploaded files into the corpus folder, and taking them out, without escaping it.

A file name from a browser or an API client is only a hint: it is reduced to a plain name (no folder
parts, no ``..``, no leading dot, no control or shell characters), its suffix must be a supported type,
and the file must parse as a document before it replaces anything. Files are written through a hidden
temporary file in the corpus folder and renamed into place, so a half-written upload is never indexed.
Existing symbolic links and non-regular files are never written through or replaced.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from qa.config import SUPPORTED_SUFFIXES
from qa.errors import DocumentError, QAError
from qa.ingest.documents import load_document
from qa.settings import MB, Settings

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()+,]", re.UNICODE)


class UploadError(QAError):
    """An upload refused; the message says why, for the user."""


@dataclass
class Saved:
    name: str  # the name in the corpus folder (also the document's source in the index)
    replaced: bool  # an existing file of that name was updated


def sanitize_filename(name: str) -> str:
    """A safe plain file name from whatever a client sent, or UploadError."""
    raw = str(name or "")
    base = re.split(r"[\\/]", raw)[-1]  # drop any folder part, Windows or POSIX
    base = unicodedata.normalize("NFC", base)
    base = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in base)
    base = _UNSAFE.sub("_", base)
    base = " ".join(base.split())
    base = base.lstrip(". ").rstrip(". ")
    if not base or base in (".", ".."):
        raise UploadError(f"'{raw[:80]}' is not a usable file name")
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "no extension"
        raise UploadError(f"{base}: unsupported file type ({shown}); upload {', '.join(SUPPORTED_SUFFIXES)} files")
    stem = Path(base).stem.rstrip(". ") or "document"
    stem = stem[: MAX_NAME_CHARS - len(suffix)]
    return stem + suffix


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (symbolic links resolved) lies inside ``root``."""
    try:
        return path.resolve(strict=False).is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def corpus_root(corpus: str | os.PathLike) -> Path:
    root = Path(corpus).resolve()
    if not root.is_dir():
        raise UploadError(f"the documents folder '{corpus}' does not exist")
    return root


def save_upload(src: str | os.PathLike, original_name: str, corpus: str | os.PathLike,
                max_bytes: int = int(Settings().max_upload_mb * MB)) -> Saved:
    """Copy ``src`` into ``corpus`` under a sanitized ``original_name``; returns what was saved."""
    name = sanitize_filename(original_name)
    root = corpus_root(corpus)
    try:
        size = os.stat(src).st_size
    except OSError as exc:
        raise UploadError(f"{name}: the upload could not be read ({exc.strerror})") from exc
    if size > max_bytes:
        raise UploadError(f"{name}: {size / 1048576:.1f} MB is over the {max_bytes / 1048576:.0f} MB limit")
    if size == 0:
        raise UploadError(f"{name}: the file is empty")
    dest = root / name
    if dest.parent != root or not inside(root, dest):
        raise UploadError(f"{name}: refused (outside the documents folder)")
    replaced = False
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            raise UploadError(f"{name}: refused, a link or special file of that name is in the documents folder")
        replaced = True
    suffix = dest.suffix
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=suffix, dir=root)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            if out.tell() > max_bytes:
                raise UploadError(f"{name}: over the {max_bytes / 1048576:.0f} MB limit")
            out.flush()
            os.fsync(out.fileno())
        try:
            load_document(tmp, name)  # refuse what the indexer could not read, before it replaces anything
        except DocumentError as exc:
            raise UploadError(f"{name}: {exc}") from exc
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except OSError as exc:
        raise UploadError(f"{name}: could not be saved ({exc.strerror})") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return Saved(name, replaced)
