"""What the server does, without the web page: answer, list, add, remove, rebuild.

One ``Service`` per server process holds the one ``Answerer`` (model and index loaded once). Changes
to the documents run one at a time (a lock here; ``build_index`` also holds the index's file lock
against other processes) and publish a new index generation atomically; ``Answerer.refresh()`` then
switches to it while questions already running finish on the old one, so people asking during an
upload see the old index or the new one, never a half-built one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from qa.answer.pipeline import Answerer
from qa.answer.results import Answer
from qa.errors import QAError
from qa.index.indexer import IndexReport, build_index
from qa.settings import MAX_K, MB

from .trash import TRASH, restore_document, trash_document
from .uploads import UploadError, save_upload

log = logging.getLogger("qa.serve")

Progress = Callable[[float, str], None]


def _no_progress(fraction: float, message: str) -> None:
    pass


class Service:
    def __init__(self, answerer: Answerer, docs_dir: str | os.PathLike) -> None:
        """Uploads are limited to ``answerer.settings.max_upload_mb`` and indexed into its index (a folder
        or PostgreSQL)."""
        self.answerer = answerer
        self.docs_dir = Path(docs_dir)
        self.max_upload_bytes = int(answerer.settings.max_upload_mb * MB)
        self._changes = threading.Lock()

    # --- reading ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Pick up an index published by another process (``qa index``); cheap when nothing changed."""
        try:
            self.answerer.refresh()
        except QAError as exc:  # keep answering from the generation already open
            log.warning("index refresh failed: %s", exc)

    def ask(self, question: str, k: int | None = None, mode: str | None = None,
            scope: list[str] | None = None) -> Answer:
        self.refresh()
        k = int(k or self.answerer.settings.k)
        if not 1 <= k <= MAX_K:
            raise QAError(f"the number of passages must be between 1 and {MAX_K}")
        return self.answerer.ask(question, k=k, mode=mode, scope=scope)

    def documents(self):
        self.refresh()
        store = self.answerer.store  # one generation, even if a refresh swaps it meanwhile
        return store.documents()

    def document_text(self, source: str) -> str | None:
        return self.answerer.store.document_text(source)

    # --- changing the documents ------------------------------------------------------------------

    @property
    def background_embedder(self):
        """Uploads are embedded on all cores but one, so questions asked meanwhile keep a core of their own."""
        from qa.index.embedder import usable_cores

        return self.answerer.embedder.with_workers(usable_cores() - 1)

    def _index(self, rebuild: bool = False, progress: Progress = _no_progress) -> IndexReport:
        def embedded(done: int, total: int) -> None:
            progress(0.15 + 0.8 * done / max(total, 1), f"embedding: {done} of {total} chunks")

        report = build_index(self.docs_dir, self.answerer.index, rebuild=rebuild, embedder=self.background_embedder,
                             progress=False, on_progress=embedded,
                             max_file_mb=self.answerer.settings.max_file_mb)
        progress(0.97, "switching to the new index")
        self.answerer.refresh()
        return report

    @staticmethod
    def _report(report: IndexReport | None, **extra) -> dict:
        out = {"ok": True, "added": [], "updated": [], "removed": [], "refused": [], "skipped": [],
               "skipped_pages": [], "documents": None, "chunks": None, "seconds": None}
        if report is not None:
            out.update(added=list(report.added), updated=list(report.updated), removed=list(report.removed),
                       skipped=[{"file": s.source, "reason": s.reason} for s in report.skipped],
                       skipped_pages=[{"file": s.source, "reason": s.reason} for s in report.skipped_pages],
                       documents=report.documents, chunks=report.chunks, seconds=round(report.seconds, 2))
        out.update(extra)
        return out

    def add_files(self, files: Iterable[tuple[str, str]], progress: Progress = _no_progress) -> dict:
        """Save uploaded ``(temporary path, original name)`` pairs into the corpus and index them."""
        files = list(files)
        if not files:
            return self._report(None, ok=False, message="no files were uploaded")
        refused, saved = [], []
        with self._changes:
            progress(0.02, "checking and saving files")
            renamed = []
            for path, name in files:
                try:
                    saved.append(save_upload(path, name, self.docs_dir, self.max_upload_bytes))
                except UploadError as exc:
                    refused.append({"file": str(name)[:200], "reason": str(exc)})
                else:
                    if saved[-1].name != Path(str(name)).name:
                        renamed.append({"file": str(name)[:200], "saved_as": saved[-1].name})
            if not saved:
                return self._report(None, ok=False, refused=refused, message="nothing was added")
            progress(0.1, f"reading {len(saved)} file{'s' if len(saved) != 1 else ''}")
            t0 = time.perf_counter()
            report = self._index(progress=progress)
            progress(1.0, "done")
        log.info("upload: %s (%.1f s)", report.summary(), time.perf_counter() - t0)
        names = [s.name for s in saved]
        return self._report(report, refused=refused, saved=names, renamed=renamed,
                            unchanged=[n for n in names if n in report.unchanged],
                            message=f"indexed in {report.seconds:.1f} s")

    def remove(self, source: str) -> dict:
        """Move an indexed document's file to ``.trash/`` in the documents folder and update the index."""
        source = str(source or "")
        with self._changes:
            if source not in {d.source for d in self.documents()}:
                return self._report(None, ok=False, message=f"'{source[:200]}' is not an indexed document")
            try:
                moved = trash_document(source, self.docs_dir)
            except UploadError as exc:
                return self._report(None, ok=False, message=str(exc))
            report = self._index()
        note = f"moved to {TRASH}/ in the documents folder (undo restores it)" if moved else "the file was already gone"
        return self._report(report, message=note, trashed=source if moved else None)

    def restore(self, source: str) -> dict:
        """Undo ``remove``: move the file back from the trash and index it again."""
        source = str(source or "")
        with self._changes:
            try:
                restore_document(source, self.docs_dir)
            except UploadError as exc:
                return self._report(None, ok=False, message=str(exc))
            report = self._index()
        return self._report(report, message=f"restored {source[:200]}")

    def rebuild(self, progress: Progress = _no_progress) -> dict:
        with self._changes:
            progress(0.05, "rebuilding the whole index (embedding every document)")
            report = self._index(rebuild=True, progress=progress)
            progress(1.0, "done")
        return self._report(report, message=f"rebuilt in {report.seconds:.1f} s")
