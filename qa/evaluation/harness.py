"""The evaluation harness behind ``qa eval``: index a SQuAD-format file as documents, ask every question
through the library entry point (``build_index`` + ``Answerer.ask``), and score the answers.

Per retrieval mode it reports (all rates are fractions in [0, 1]; see ``qa.evaluation.metrics`` for the exact
definitions):

- ``recall@k`` (k = 1 ... ``n_passages``): a passage among the first k retrieved overlaps the gold
  paragraph in the gold document and contains a gold answer text;
- ``em`` / ``f1``: official SQuAD normalization, max over gold answers; "not found" counts as the
  empty answer (wrong for every answerable question, right for an impossible SQuAD 2.0 one);
- ``sentence_accuracy``: an answer was given and its cited sentence contains a gold answer text
  (``sentence_accuracy_in_paragraph``: and that sentence lies in the gold paragraph);
- ``citation_accuracy``: an answer was given and its span lies inside the gold paragraph;
- ``answered``: share of questions that got an answer rather than "not found";
- SQuAD 2.0 files: ``noanswer_precision`` (of the "not found" answers, the share on impossible
  questions; null when there were none) and ``noanswer_recall`` (of the impossible questions, the
  share answered "not found"); recall, sentence and citation accuracy then count answerable
  questions only, EM / F1 all of them (``em_answerable`` / ``f1_answerable`` for the answerable ones);
- latency: the engine's own ``timings_ms`` per question, warm (one untimed question first), p50 / p95
  of the total and of each stage (embed, dense, bm25, fuse, search = dense + bm25 + fuse, read);
- the index build: seconds, embedding seconds and chunks per second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.metrics import (
    citation_hit,
    exact_match,
    f1,
    first_hit_rank,
    percentile,
    recall_at,
    sentence_hit,
    sentence_in_paragraph_hit,
)
from qa.evaluation.squad import SquadSet, load_squad, sample_questions, write_corpus
from qa.settings import MODES, Settings, check_mode

log = logging.getLogger(__name__)

STAGES = ("embed", "dense", "bm25", "fuse", "search", "read", "total")
MARKER = ".qa-eval"  # marks a folder as an eval scratch folder that may be rewritten
BUILD_FILE = "build.json"


@dataclass
class BuildInfo:
    seconds: float
    embed_seconds: float
    model_load_seconds: float
    documents: int
    chunks: int
    reused: bool = False

    def as_dict(self) -> dict:
        return {
            "build_seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "model_load_seconds": round(self.model_load_seconds, 3),
            "chunks_per_second": round(self.chunks / self.seconds, 2) if self.seconds > 0 else None,
            "documents": self.documents,
            "chunks": self.chunks,
            "build_reused": self.reused,
        }


def parse_modes(value: str) -> list[str]:
    """``hybrid``, ``dense,bm25`` or ``all`` (= hybrid, dense, bm25) to a list of modes."""
    if value.strip() == "all":
        return list(MODES)
    modes = [m.strip() for m in value.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            raise QAError(f"unknown mode '{m}'; choose from: {', '.join(MODES)}, or all")
    if not modes:
        raise QAError("no mode given")
    return list(dict.fromkeys(modes))


def _fingerprint(docs: dict[str, str], layout: str) -> str:
    h = hashlib.sha256(layout.encode())
    for source in sorted(docs):
        h.update(source.encode() + b"\0" + hashlib.sha256(docs[source].encode()).digest())
    return h.hexdigest()


def prepare_workdir(path: str | Path | None) -> tuple[Path, bool]:
    """The scratch folder (``corpus/``, ``index/``, ``build.json``); returns it and whether it is temporary."""
    if path is None:
        folder = Path(tempfile.mkdtemp(prefix="qa-eval-"))
        (folder / MARKER).touch()
        return folder, True
    folder = Path(path)
    if folder.exists():
        if not folder.is_dir():
            raise QAError(f"'{folder}' exists and is not a folder")
        if any(folder.iterdir()) and not (folder / MARKER).exists():
            raise QAError(f"'{folder}' is not empty and was not made by 'qa eval'; give a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch()
    return folder, False


def build_eval_index(squad: SquadSet, workdir: Path, *, layout: str, embedder, progress: bool,
                     store: str | None = None) -> BuildInfo:
    """Write the corpus and bring ``workdir/index`` (or the PostgreSQL ``store``) up to date with it.

    A fresh build is timed here. When the index was already current (a reused ``--index-dir``), the
    figures of the build that made it are reported, marked ``reused``.
    """
    from qa.index.indexer import build_index

    docs = write_corpus(squad, workdir / "corpus", layout)
    t = time.perf_counter()
    _ = embedder.model  # load the model outside the build timing
    load_seconds = time.perf_counter() - t
    report = build_index(workdir / "corpus", store or workdir / "index", embedder=embedder, progress=progress)
    if report.skipped:
        raise QAError(f"could not index {report.skipped[0].source}: {report.skipped[0].reason}")
    fingerprint = _fingerprint(docs, layout)
    record = workdir / BUILD_FILE
    if not report.changed and record.exists():
        saved = json.loads(record.read_text())
        if saved.get("fingerprint") == fingerprint:
            return BuildInfo(saved["seconds"], saved["embed_seconds"], saved["model_load_seconds"],
                             report.documents, report.chunks, reused=True)
    info = BuildInfo(report.seconds, report.embed_seconds, load_seconds, report.documents, report.chunks,
                     reused=not report.changed)
    if report.changed and not (report.updated or report.removed or report.unchanged):
        record.write_text(json.dumps({"fingerprint": fingerprint, "seconds": info.seconds,
                                      "embed_seconds": info.embed_seconds,
                                      "model_load_seconds": info.model_load_seconds}))
    return info


def check_offsets(answerer, squad: SquadSet) -> None:
    """Every gold paragraph must sit at its recorded range in the indexed text (else the scores lie)."""
    texts: dict[str, str | None] = {}
    for p in squad.paragraphs:
        if p.source not in texts:
            texts[p.source] = answerer.document_text(p.source)
        text = texts[p.source]
        if text is None or text[p.start : p.end] != p.context:
            raise QAError(f"the indexed text of {p.source} does not match the data set at {p.start}-{p.end}")


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def evaluate_mode(answerer, questions, *, mode: str, k: int, n_passages: int, v2: bool = False,
                  progress: bool = True, details=None) -> dict:
    """Ask every question in one mode and score it; returns the metrics (see the module docstring)."""
    from tqdm import tqdm

    n_passages = max(n_passages, k)
    answerer.ask(questions[0].question, k=k, mode=mode, n_passages=n_passages)  # warm: not timed

    ranks: list[int | None] = []
    em = f1s = em_ans = f1_ans = 0.0
    sent = sent_par = cited = answered = 0
    answerable = impossible = nf_total = nf_right = errors = 0
    timings: dict[str, list[float]] = {s: [] for s in STAGES}
    t0 = time.perf_counter()
    for q in tqdm(questions, desc=f"eval {mode}", unit="q", disable=not progress, file=sys.stderr, mininterval=1.0):
        p = q.paragraph
        try:
            ans = answerer.ask(q.question, k=k, mode=mode, n_passages=n_passages)
        except QAError as exc:  # e.g. a question with no text: count it as "not found", keep going
            errors += 1
            ans = None
            if details is not None:
                details.write(json.dumps({"id": q.id, "mode": mode, "error": str(exc)}) + "\n")
        prediction = ans.answer if ans is not None else None
        q_em, q_f1 = exact_match(prediction, q.answers), f1(prediction, q.answers)
        em += q_em
        f1s += q_f1
        answered += prediction is not None
        if q.impossible:
            impossible += 1
            if prediction is None:
                nf_total += 1
                nf_right += 1
            rank = None
        else:
            answerable += 1
            em_ans += q_em
            f1_ans += q_f1
            if prediction is None:
                nf_total += 1
            rank = first_hit_rank(ans.passages[:n_passages], p.source, p.start, p.end, q.answers) if ans else None
            ranks.append(rank)
            if ans is not None:
                sent += sentence_hit(ans, q.answers)
                sent_par += sentence_in_paragraph_hit(ans, p.source, p.start, p.end, q.answers)
                cited += citation_hit(ans, p.source, p.start, p.end)
        if ans is not None:
            for stage in STAGES:
                if stage in ans.timings_ms:
                    timings[stage].append(ans.timings_ms[stage])
        if details is not None and ans is not None:
            c = ans.citations[0] if ans.citations else None
            details.write(json.dumps({
                "id": q.id, "mode": mode, "question": q.question, "gold": q.answers, "impossible": q.impossible,
                "answer": prediction, "confidence": ans.confidence, "answer_type": ans.answer_type,
                "rank": rank, "em": q_em, "f1": round(q_f1, 4),
                "sentence": c.sentence if c else None, "source": c.source if c else None,
                "gold_source": p.source, "total_ms": round(ans.timings_ms.get("total", 0.0), 2),
            }, ensure_ascii=False) + "\n")
    seconds = time.perf_counter() - t0

    n = len(questions)
    out = {
        "mode": mode,
        "questions": n,
        "answerable": answerable,
    }
    for kk in (1, 5, 20):
        out[f"recall@{kk}"] = _round(recall_at(ranks, kk)) if kk <= n_passages else None
    out["recall_curve"] = [_round(recall_at(ranks, kk)) for kk in range(1, n_passages + 1)]
    out["mrr"] = _round(sum(1 / r for r in ranks if r is not None) / len(ranks)) if ranks else 0.0
    out.update(
        em=_round(em / n),
        f1=_round(f1s / n),
        sentence_accuracy=_round(sent / answerable) if answerable else None,
        sentence_accuracy_in_paragraph=_round(sent_par / answerable) if answerable else None,
        citation_accuracy=_round(cited / answerable) if answerable else None,
        answered=_round(answered / n),
    )
    if v2:
        out.update(
            impossible=impossible,
            noanswer_precision=_round(nf_right / nf_total) if nf_total else None,
            noanswer_recall=_round(nf_right / impossible) if impossible else None,
            em_answerable=_round(em_ans / answerable) if answerable else None,
            f1_answerable=_round(f1_ans / answerable) if answerable else None,
        )
    out["latency_p50_ms"] = _round(percentile(timings["total"], 50), 2)
    out["latency_p95_ms"] = _round(percentile(timings["total"], 95), 2)
    out["latency_ms"] = {
        s: {"p50": _round(percentile(v, 50), 2), "p95": _round(percentile(v, 95), 2),
            "mean": _round(sum(v) / len(v), 2) if v else None}
        for s, v in timings.items() if v
    }
    out["errors"] = errors
    out["seconds"] = round(seconds, 2)
    return out


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    return info


def run_eval(
    data: str | Path,
    *,
    modes: list[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    settings: Settings | None = None,
    index_dir: str | Path | None = None,
    keep: bool = False,
    layout: str = "article",
    progress: bool = True,
    details: str | Path | None = None,
    embedder=None,
) -> dict:
    """Build a scratch index of ``data`` and evaluate each mode on it. Returns the result object.

    The top level holds the first mode's metrics (so one mode gives a flat object); with several modes
    ``by_mode`` holds each. ``settings`` gives the engine's reader, threshold, ``k`` (passages read)
    and ``n_passages`` (passages ranked); default: ``Settings.from_env()``. ``index_dir`` keeps (and
    reuses) the scratch corpus and index there; without it a temporary folder is used and removed
    unless ``keep``. ``settings.store`` (a ``postgresql://`` URL) holds the index instead of the
    scratch folder; its previous contents are replaced by the data set's documents.
    """
    from qa.answer.pipeline import Answerer
    from qa.index.embedder import Embedder

    settings = settings or Settings.from_env()
    k, n_passages, store = settings.k, max(settings.n_passages, settings.k), settings.store
    modes = [check_mode(m) for m in (modes or [settings.mode])]
    t_start = time.perf_counter()
    squad = load_squad(data)
    questions = sample_questions(squad.questions, limit, seed)
    embedder = embedder or Embedder(threads=settings.threads)
    workdir, temporary = prepare_workdir(index_dir)
    sink = open(details, "w", encoding="utf-8") if details else None
    try:
        build = build_eval_index(squad, workdir, layout=layout, embedder=embedder, progress=progress, store=store)
        answerer = Answerer(store or workdir / "index", embedder=embedder, settings=settings)
        check_offsets(answerer, squad)
        by_mode = {m: evaluate_mode(answerer, questions, mode=m, k=k, n_passages=n_passages, v2=squad.v2,
                                    progress=progress, details=sink) for m in modes}
        answerer.store.close()
    finally:
        if sink:
            sink.close()
        if temporary and not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif temporary:
            log.info("qa eval: scratch corpus and index kept in %s", workdir)

    first = by_mode[modes[0]]
    result = {
        "data": str(data),
        "version": squad.version,
        "squad2": squad.v2,
        "layout": layout,
        "articles": len(squad.titles),
        "paragraphs": len(squad.paragraphs),
        "questions_in_file": len(squad.questions),
        "limit": limit,
        "seed": seed,
        "k": k,
        "n_passages": n_passages,
        "threshold": answerer.threshold,
        "reader": getattr(answerer, "reader_name", None),
        "store": answerer.index.kind,
        **build.as_dict(),
        **first,
        "modes": modes,
        "workdir": None if temporary and not keep else str(workdir),
        "machine": machine_info(),
        "total_seconds": round(time.perf_counter() - t_start, 2),
    }
    if len(modes) > 1:
        result["by_mode"] = by_mode
    return result


def _f(x, nd: int = 3) -> str:
    return "—" if x is None else f"{x:.{nd}f}"


def format_table(result: dict) -> str:
    """The result as Markdown: one row per mode, then the build and latency lines."""
    by_mode = result.get("by_mode") or {result["mode"]: result}
    v2 = result.get("squad2")
    head = ["mode", "questions", "R@1", "R@5", "R@20", "EM", "F1", "sentence", "citation", "answered"]
    if v2:
        head += ["no-ans P", "no-ans R"]
    head += ["p50 ms", "p95 ms", "embed p50", "search p50", "read p50"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mode, r in by_mode.items():
        lat = r.get("latency_ms", {})
        row = [mode, str(r["questions"]), _f(r["recall@1"]), _f(r["recall@5"]), _f(r["recall@20"]),
               _f(r["em"]), _f(r["f1"]), _f(r["sentence_accuracy"]), _f(r["citation_accuracy"]), _f(r["answered"])]
        if v2:
            row += [_f(r.get("noanswer_precision")), _f(r.get("noanswer_recall"))]
        row += [_f(r["latency_p50_ms"], 1), _f(r["latency_p95_ms"], 1)]
        row += [_f(lat.get(s, {}).get("p50"), 1) for s in ("embed", "search", "read")]
        lines.append("| " + " | ".join(row) + " |")
    reused = " (reused index; figures of the build that made it)" if result.get("build_reused") else ""
    lines.append("")
    lines.append(
        f"{result['articles']} articles, {result['paragraphs']} paragraphs written as {result['documents']} "
        f"documents ({result['layout']} layout) -> {result['chunks']} chunks; build {result['build_seconds']:.1f} s "
        f"(embedding {result['embed_seconds']:.1f} s), {_f(result['chunks_per_second'], 1)} chunks/s{reused}."
    )
    lines.append(
        f"Reader {result.get('reader') or '(default)'} reads k={result['k']} passages; recall over the first "
        f"{result['n_passages']}; threshold "
        f"{result['threshold']}; {result['questions']} of {result['questions_in_file']} questions"
        + (f" (--limit {result['limit']} --seed {result['seed']})" if result.get("limit") else "") + "."
    )
    return "\n".join(lines)
