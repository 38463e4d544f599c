"""Bring an index up to date with a folder: add new files, re-embed changed ones, drop deleted ones.

Files are compared by content hash, so an index that is already current is left alone without loading
the model. Every change is made inside a ``Build`` of the store (a private copy of the live generation
for the embedded store, a transaction for PostgreSQL) and becomes visible atomically when it commits.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .chunker import chunk_document
from .config import ChunkerSettings
from .documents import Document, Skipped, load_document, scan_folder
from .embedder import Embedder
from .errors import DocumentError, QAError
from .index_dir import describe_os_error, expected_settings, sha256_file
from .store import Index, Store, open_index

EMBED_GROUP = 512  # chunks embedded and written together


@dataclass
class IndexReport:
    folder: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
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
            f"{len(self.unchanged)} unchanged documents; {self.chunks} chunks in {self.documents} documents "
            f"(+{self.chunks_added} -{self.chunks_removed}); "
            + (f"{len(self.skipped)} files skipped (listed above); " if self.skipped else "")
            + f"{self.seconds:.1f} s"
        )


def build_index(
    folder: str | Path,
    index_dir: str | Path | Index,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    progress: bool = True,
    settings: ChunkerSettings | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> IndexReport:
    """Synchronise the index at ``index_dir`` (a folder or a ``postgresql://`` URL) with the supported
    files under ``folder``.

    ``progress`` shows a tqdm bar on stderr; ``on_progress(done, total)`` is called as chunks are embedded.
    """
    t0 = time.perf_counter()
    folder = Path(folder)
    if not folder.is_dir():
        raise QAError(f"folder '{folder}' does not exist or is not a folder")
    settings = settings or ChunkerSettings()
    index = open_index(index_dir)
    report = IndexReport(folder=str(folder))
    with index.build(settings, rebuild) as build:
        report.rebuilt = build.rebuilt
        if build.rebuilt and build.rebuilt != "--rebuild":
            print(f"rebuilding the whole index: {build.rebuilt}", file=sys.stderr)
        indexed = build.indexed

        files, report.skipped = scan_folder(folder)
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
        todo = _load(report, hashes, settings)  # before deciding: a file that cannot be read changes nothing

        if not report.changed and index.exists():
            report.documents, report.chunks = len(indexed), build.base_chunks
            report.seconds = time.perf_counter() - t0
            return report

        try:
            _apply(build.store(), report, todo, embedder, progress, on_progress)
            manifest = dict(
                expected_settings(settings),
                corpus=str(folder.resolve()),
                created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                documents=report.documents,
                chunks=report.chunks,
            )
            build.commit(manifest)
        except (OSError, sqlite3.Error) as exc:
            build.abort()
            reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            raise QAError(f"could not write the index: {reason}; the previous index is unchanged") from exc
    report.seconds = time.perf_counter() - t0
    return report


def _load(report: IndexReport, hashes, settings) -> list[tuple[Document, str, Path, list]]:
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
        todo.append((doc, sha, path, chunk_document(doc, settings)))
    report.removed.sort()
    return todo


def _apply(store: Store, report, todo, embedder, progress, on_progress) -> None:
    for source in report.removed + report.updated:
        report.chunks_removed += store.remove_document(source)

    total = sum(len(c) for *_, c in todo)
    if total:
        embedder = embedder or Embedder()
        report.model_loaded = True
        _embed_and_store(store, todo, total, embedder, progress, on_progress, report)
    report.documents = len(store.documents())
    report.chunks = store.n_chunks


def _embed_and_store(store, todo, total, embedder, progress, on_progress, report) -> None:
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
            n = len(todo[i][3])
            i += 1
            while i < len(todo) and n + len(todo[i][3]) <= EMBED_GROUP:
                group.append(todo[i])
                n += len(todo[i][3])
                i += 1
            chunks = [c for *_, cs in group for c in cs]
            t = time.perf_counter()
            vecs, svecs = embedder.encode_chunks(
                [c.text for c in chunks],
                [[(a - c.start, b - c.start) for a, b in c.sentences] for c in chunks],
                progress=step,
            )
            report.embed_seconds += time.perf_counter() - t
            pos = 0
            for doc, sha, path, cs in group:
                st = path.stat()
                store.add_document(
                    doc, sha, st.st_size, st.st_mtime, now, cs, vecs[pos : pos + len(cs)], svecs[pos : pos + len(cs)]
                )
                pos += len(cs)
            report.chunks_added += len(chunks)
    finally:
        bar.close()
