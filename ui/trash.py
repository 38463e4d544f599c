"""Removing a document without losing it: its file moves to ``.trash/`` inside the documents folder.

The folder scan of ``qa index`` skips every name starting with a dot, so nothing in ``.trash/`` is ever
indexed. The trash keeps the last removed copy of each path (a later removal of the same path
replaces it); ``restore_document`` moves it back.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from .uploads import UploadError, corpus_root, inside

TRASH = ".trash"


def _relative(source: str) -> PurePosixPath:
    rel = PurePosixPath(str(source))
    if rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") for p in rel.parts) or "\\" in str(source):
        raise UploadError(f"'{source}' is not a document of this folder")
    if rel.parts[0] == TRASH:
        raise UploadError(f"'{source}' is in the trash")
    return rel


def _move(src: Path, dest: Path, root: Path) -> None:
    if not (inside(root, src.parent) and inside(root, dest.parent)):
        raise UploadError("refused: outside the documents folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)


def trash_document(source: str, corpus: str | os.PathLike) -> bool:
    """Move the file behind document ``source`` into the trash; False when it is already gone."""
    root, rel = corpus_root(corpus), _relative(source)
    path = root.joinpath(*rel.parts)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise UploadError(f"'{source}' is not a file")
    try:
        _move(path, root / TRASH / Path(*rel.parts), root)
    except OSError as exc:
        raise UploadError(f"could not move '{source}' to the trash ({exc.strerror})") from exc
    return True


def restore_document(source: str, corpus: str | os.PathLike) -> None:
    """Move ``source`` back from the trash; refused if it is not there or a file of that name came back."""
    root, rel = corpus_root(corpus), _relative(source)
    trashed, path = root / TRASH / Path(*rel.parts), root.joinpath(*rel.parts)
    if not os.path.lexists(trashed):
        raise UploadError(f"'{source}' is not in the trash")
    if os.path.lexists(path):
        raise UploadError(f"'{source}' is in the documents folder again; nothing was restored")
    try:
        _move(trashed, path, root)
    except OSError as exc:
        raise UploadError(f"could not restore '{source}' ({exc.strerror})") from exc
