"""Bring an index up to date with a folder: add new files, re-embed changed ones, drop deleted ones.

Files are compared by content hash, so an index that is already current is left alone without loading
the model. Every change is made inside a ``Build`` of the store (a private copy of the live generation
for the embedded store, a transaction for PostgreSQL) and becomes visible atomically when it commits.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa.config import ChunkerSettings
from qa.errors import DocumentError, QAError
from qa.index.embedder import Embedder
from qa.index.index_dir import describe_os_error, expected_settings, sha256_file
from qa.index.store import REBUILD_ASKED, Index, Store, open_index
from qa.ingest.chunker import Chunk, chunk_document
from qa.ingest.documents import Document, Skipped, load_document, scan_folder
from qa.settings import MB, Settings
from qa.wording import plural

log = logging.getLogger(__name__)

EMBED_GROUP = 512  # chunks embedded and written together


@dataclass
class LoadedFile:
    """A file read and chunked, waiting to be embedded."""

    doc: Document
    sha256: str
    path: Path
    chunks: list[Chunk]


@dataclass
class IndexReport:
    folder: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    skipped_pages: list[Skipped] = field(default_factory=list)  # pages of indexed files left out: ("a.pdf", "page 2: ...")
    chunks_added: int = 0
    chunks_removed: int = 0
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    rebuilt: str | None = None  # why the whole index was rebuilt, if it was
    model_loaded: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed) or self.rebuilt is not None

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged documents; {plural(self.chunks, 'chunk')} in {plural(self.documents, 'document')} "
            f"(+{self.chunks_added} -{self.chunks_removed}); "
            + (f"{len(self.skipped)} files skipped (listed above); " if self.skipped else "")
            + (f"pages skipped in {len(self.skipped_pages)} files (listed above); " if self.skipped_pages else "")
            + f"{self.seconds:.1f} s"
        )


def build_index(
    folder: str | Path,
    index_dir: str | Path | Index,
    *,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    progress: bool = True,
    settings: ChunkerSettings | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    max_file_mb: float | None = None,
) -> IndexReport:
    """Synchronise the index at ``index_dir`` (a folder or a ``postgresql://`` URL) with the supported
    files under ``folder``.

    ``progress`` shows a tqdm bar on stderr; ``on_progress(done, total)`` is called as chunks are embedded.
    Files over ``max_file_mb`` megabytes are skipped (0: no limit; default: ``Settings.from_env()``).
    """
    t0 = time.perf_counter()
    folder = Path(folder)
    if not folder.is_dir():
        raise QAError(f"folder '{folder}' does not exist or is not a folder")
    settings = settings or ChunkerSettings()
    if max_file_mb is None:
        max_file_mb = Settings.from_env().max_file_mb
    index = open_index(index_dir)
    report = IndexReport(folder=str(folder))
    with index.build(settings, rebuild) as build:
        report.rebuilt = build.rebuilt
        if build.rebuilt and build.rebuilt != REBUILD_ASKED:
            log.info("rebuilding the whole index: %s", build.rebuilt)
        indexed = build.indexed

        files, report.skipped = scan_folder(folder, max_bytes=int(max_file_mb * MB) or None)
        hashes = _compare(report, files, indexed)
        todo = _load(report, hashes, settings)  # before deciding: a file that cannot be read changes nothing

        if not report.changed and index.exists():
            report.documents, report.chunks = len(indexed), build.base_chunks
            report.seconds = time.perf_counter() - t0
            return report

        try:
            _apply(build.store(), report, todo=todo, embedder=embedder, progress=progress, on_progress=on_progress)
            build.commit(index_manifest(settings, folder, documents=report.documents, chunks=report.chunks))
        except (OSError, sqlite3.Error) as exc:
            build.abort()
            reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            raise QAError(f"could not write the index: {reason}; the previous index is unchanged") from exc
    report.seconds = time.perf_counter() - t0
    return report


def index_manifest(settings: ChunkerSettings, folder: Path, *, documents: int, chunks: int) -> dict:
    """What a build records about itself: the settings that shape the index, the corpus and the counts."""
    return dict(
        expected_settings(settings),
        corpus=str(Path(folder).resolve()),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        documents=documents,
        chunks=chunks,
    )


def _compare(report: IndexReport, files: dict[str, Path], indexed: dict[str, str]) -> dict[str, tuple[str, Path]]:
    """Hash the files and sort them into added / updated / unchanged / removed; returns source -> (sha256, path)."""
    hashes: dict[str, tuple[str, Path]] = {}
    for source, path in files.items():
        try:
            hashes[source] = (sha256_file(path), path)
        except OSError as exc:
            report.skipped.append(Skipped(source, f"cannot read file ({describe_os_error(exc)})"))
    for source in sorted(hashes):
        if source not in indexed:
            report.added.append(source)
        elif indexed[source] != hashes[source][0]:
            report.updated.append(source)
        else:
            report.unchanged.append(source)
    report.removed = sorted(set(indexed) - set(hashes))
    return hashes


def _load(report: IndexReport, hashes, settings) -> list[LoadedFile]:
    """Read and chunk the added and updated files; those that cannot be read become skipped (an updated
    one counts as removed: its old version goes)."""
    todo = []
    for source in report.added + report.updated:
        sha, path = hashes[source]
        try:
            doc = load_document(path, source)
        except DocumentError as exc:
            report.skipped.append(Skipped(source, str(exc)))
            if source in report.updated:
                report.updated.remove(source)
                report.removed.append(source)
            else:
                report.added.remove(source)
            continue
        report.skipped_pages.extend(Skipped(source, note) for note in doc.left_out)
        todo.append(LoadedFile(doc, sha, path, chunk_document(doc, settings)))
    report.removed.sort()
    return todo


def _apply(store: Store, report: IndexReport, *, todo: list[LoadedFile], embedder, progress, on_progress) -> None:
    for source in report.removed + report.updated:
        report.chunks_removed += store.remove_document(source)

    total = sum(len(f.chunks) for f in todo)
    if total:
        embedder = embedder or Embedder()
        report.model_loaded = True
        _embed_and_store(store, report, todo=todo, total=total, embedder=embedder, progress=progress,
                         on_progress=on_progress)
    report.documents = len(store.documents())
    report.chunks = store.n_chunks


def _embed_and_store(store: Store, report: IndexReport, *, todo: list[LoadedFile], total: int, embedder, progress,
                     on_progress) -> None:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="chunk", desc="embedding", disable=not progress, file=sys.stderr)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        bar.update(n)
        if on_progress:
            on_progress(done, total)
    now = time.time()
    i = 0
    try:
        while i < len(todo):
            group = [todo[i]]
            n = len(todo[i].chunks)
            i += 1
            while i < len(todo) and n + len(todo[i].chunks) <= EMBED_GROUP:
                group.append(todo[i])
                n += len(todo[i].chunks)
                i += 1
            chunks = [c for f in group for c in f.chunks]
            t = time.perf_counter()
            vecs, svecs = embedder.encode_chunks(
                [c.text for c in chunks],
                [[(a - c.start, b - c.start) for a, b in c.sentences] for c in chunks],
                progress=step,
            )
            report.embed_seconds += time.perf_counter() - t
            pos = 0
            for f in group:
                st = f.path.stat()
                end = pos + len(f.chunks)
                store.add_document(f.doc, sha256=f.sha256, size=st.st_size, mtime=st.st_mtime, indexed_at=now,
                                   chunks=f.chunks, chunk_vectors=vecs[pos:end], sentence_vectors=svecs[pos:end])
                pos = end
            report.chunks_added += len(chunks)
    finally:
        bar.close()
