"""The fuzz harness for the document loaders (tests/test_fuzz_loaders.py): how many inputs each loader gets,
the invariants every input must keep, and the tally that ``make fuzz`` reports.

Two tiers. The normal suite runs a few hundred inputs in all, derandomized (the same inputs on every
run, so CI never fails on a new random draw). ``make fuzz`` sets ``QA_FUZZ_EXAMPLES`` (inputs per loader,
10,000 there; slow loaders get the fraction in ``LONG_SHARE``), draws fresh random inputs and writes the
tally to ``QA_FUZZ_REPORT`` (JSON). Every input that breaks an invariant is also saved under
``tests/artifacts/fuzz-failures/`` so that it can join the regression corpus (tests/corpus/).

Invariants, for every input (``check``):

- the loader returns a Document or raises ``DocumentError`` with a one-line reason: nothing else escapes;
- bounded time (``HANG_SECONDS`` plus 2 s per MB, a watchdog) and memory (the process's peak resident
  size grows by at most ``MEMORY_BASE`` plus 500 MB per MB of input);
- a Document's text is non-empty, holds no carriage return, and its sections start inside it, in order;
- a sentence planted where a reader would see it comes back (whitespace aside), unless the input was
  damaged on purpose (``must_keep=False``).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import resource
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.errors import DocumentError
from qa.ingest.documents import Document, load_document

ROOT = Path(__file__).resolve().parent.parent
FAILURES = ROOT / "tests" / "artifacts" / "fuzz-failures"
LONG = int(os.environ.get("QA_FUZZ_EXAMPLES", "0") or 0)
REPORT = os.environ.get("QA_FUZZ_REPORT")

# inputs per loader in the normal suite (about 500 in all: 10 s on the 2-core development machine)
QUICK = {"txt": 80, "md": 50, "html": 80, "html-deep": 8, "pdf": 40, "docx": 25, "pptx": 15, "odt": 30,
         "epub": 25, "rtf": 60, "image": 40, "ocr": 2, "seed-mutations": 50}
# the share of QA_FUZZ_EXAMPLES a slow loader gets in `make fuzz` (OCR runs a real engine on every input)
LONG_SHARE = {"ocr": 0.01, "html-deep": 0.05}

HANG_SECONDS = 30.0
MEMORY_BASE = 300 * 1024 * 1024


def examples(loader: str) -> int:
    if LONG:
        return max(1, int(LONG * LONG_SHARE.get(loader, 1.0)))
    return QUICK[loader]


def fuzz_settings(loader: str):
    """Hypothesis settings for one loader's fuzz test (no deadline: the watchdog bounds time instead, so a
    slow shared machine does not fail a test that merely ran slowly)."""
    from hypothesis import HealthCheck, settings

    return settings(max_examples=examples(loader), deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


# --- a stand-in OCR engine -------------------------------------------------------------------------------

STUB_TEXT = "Text the stub OCR engine read from the picture."


class StubOcr:
    """Reads every decodable picture as ``STUB_TEXT`` at once: the image and PDF fuzzers test decoding,
    rendering and bookkeeping, not a real engine's seconds per page (``test_fuzz_loaders`` runs the real
    one on a few inputs)."""

    name = "stub"

    def read(self, image):
        from qa.ingest.ocr import OcrPage

        image.load()
        return OcrPage(STUB_TEXT if image.width * image.height else "", None)


@contextlib.contextmanager
def stub_ocr():
    from qa.ingest import ocr

    saved = dict(ocr._engines)
    ocr._engines.update(tesseract=StubOcr(), rapidocr=StubOcr())
    try:
        yield
    finally:
        ocr._engines.clear()
        ocr._engines.update(saved)


# --- the tally ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    inputs: int = 0
    loaded: int = 0
    skipped: int = 0
    crashes: int = 0
    hangs: int = 0
    lost: int = 0  # a planted sentence missing from the text, or a document skipped that held one
    bad_offsets: int = 0
    seconds: float = 0.0
    slowest_s: float = 0.0
    max_memory_mb: float = 0.0
    bytes: int = 0


TALLY: dict[str, Tally] = collections.defaultdict(Tally)
FAILED: list[str] = []
REASONS: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


def write_report() -> None:
    if not REPORT:
        return
    Path(REPORT).parent.mkdir(parents=True, exist_ok=True)
    report = {name: {**asdict(t), "skip_reasons": dict(REASONS[name].most_common(12))}
              for name, t in sorted(TALLY.items())}
    Path(REPORT).write_text(json.dumps(report, indent=1))


# --- bounds ---------------------------------------------------------------------------------------------


class Hang(BaseException):
    """A loader ran past its time bound. Not an Exception: the loaders turn every Exception into a skip
    reason, and a hang must not pass for one."""


@contextlib.contextmanager
def watchdog(seconds: float):
    """Raise ``Hang`` in the loader when it runs past ``seconds`` (SIGALRM: the main thread, Unix)."""
    def expire(signum, frame):
        raise Hang(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


# --- the invariants -------------------------------------------------------------------------------------


def squeeze(text: str) -> str:
    return " ".join(text.split())


def check_document(doc: Document) -> None:
    """What every Document promises: text, and sections that start inside it, in order."""
    text = doc.text
    assert text.strip(), "a document without text was returned"
    assert "\r" not in text, "carriage return left in the text"
    try:
        text.encode("utf-8")  # no lone surrogates: the index stores the text as UTF-8
    except UnicodeEncodeError as exc:
        raise AssertionError(f"the text cannot be stored as UTF-8 ({exc.reason} at {exc.start})") from None
    assert doc.sections, "no sections"
    starts = [s.start for s in doc.sections]
    assert starts[0] == 0, f"the first section starts at {starts[0]}"
    assert starts == sorted(starts), f"sections out of order: {starts[:20]}"
    assert all(0 <= s < len(text) for s in starts), f"a section starts outside the text ({len(text)}): {starts[-5:]}"
    for s in doc.sections:
        assert s.heading is None or (s.heading.strip() and "\n" not in s.heading), f"bad heading {s.heading!r}"
    assert doc.title and "\n" not in doc.title and len(doc.title) <= 200, f"bad title {doc.title!r}"
    doc.locate(len(text) - 1)


def save_failure(loader: str, data: bytes, suffix: str, why: str, planted: str | None, must_keep: bool) -> Path:
    """Keep a failing input (and what was wrong, as JSON beside it) for the regression corpus."""
    FAILURES.mkdir(parents=True, exist_ok=True)
    name = f"{loader}-{hashlib.sha256(data).hexdigest()[:12]}{suffix}"
    (FAILURES / name).write_bytes(data)
    record = {"why": why, "planted": planted, "must_keep": must_keep}
    (FAILURES / (name + ".json")).write_text(json.dumps(record, ensure_ascii=False) + "\n")
    return FAILURES / name


def check(loader: str, path: Path, *, planted: str | None = None, must_keep: bool = True) -> Document | str:
    """Load ``path`` and assert the invariants; returns the Document or the skip reason. A broken invariant
    is tallied, the input saved under tests/artifacts/fuzz-failures/, and the assertion raised."""
    tally = TALLY[loader]
    tally.inputs += 1
    size = path.stat().st_size
    tally.bytes += size
    limit = HANG_SECONDS + 2 * size / 1e6
    memory_limit = MEMORY_BASE + 500 * size
    before = _peak_rss()
    started = time.perf_counter()
    failure = None
    result: Document | str
    try:
        with watchdog(limit):
            try:
                result = load_document(path, path.name)
            except DocumentError as exc:
                result = str(exc)
    except Hang as exc:
        tally.hangs += 1
        failure = f"hang: {exc}"
    except Exception as exc:  # noqa: BLE001 - the point: anything but DocumentError is a crash
        tally.crashes += 1
        failure = f"crash: {exc.__class__.__name__}: {exc}"
    elapsed = time.perf_counter() - started
    grown = _peak_rss() - before
    tally.seconds += elapsed
    tally.slowest_s = max(tally.slowest_s, elapsed)
    tally.max_memory_mb = max(tally.max_memory_mb, grown / 1048576)
    if failure is None and grown > memory_limit:
        failure = f"memory: the peak grew by {grown / 1048576:.0f} MB on a {size} byte input"
    if failure is None:
        failure = _check_result(loader, result, planted, must_keep)
    if failure is not None:
        saved = save_failure(loader, path.read_bytes(), path.suffix, failure, planted, must_keep)
        message = f"{loader}: {failure} (input saved as {saved.relative_to(ROOT)})"
        FAILED.append(message)
        if not LONG:  # the long run goes on and counts them all; the module fails at its end
            raise AssertionError(message)
    return result


def _check_result(loader: str, result: Document | str, planted: str | None, must_keep: bool) -> str | None:
    tally = TALLY[loader]
    if isinstance(result, str):
        tally.skipped += 1
        REASONS[loader][_reason_kind(result)] += 1
        if not result.strip() or "\n" in result:
            tally.crashes += 1
            return f"skip reason is not one line: {result!r}"
        if planted and must_keep:
            tally.lost += 1
            return f"lost text: skipped ({result}) although it holds {planted!r}"
        return None
    tally.loaded += 1
    try:
        check_document(result)
    except AssertionError as exc:
        tally.bad_offsets += 1
        return f"bad document: {exc}"
    if planted and must_keep and squeeze(planted) not in squeeze(result.text):
        tally.lost += 1
        return f"lost text: {planted!r} is not in the text ({len(result.text)} characters)"
    return None


def _reason_kind(reason: str) -> str:
    """A skip reason without its details, for the report ('unreadable PDF (PdfReadError: ...)' ->
    'unreadable PDF (PdfReadError')."""
    return reason.split(":", 1)[0][:70]
