"""The evaluation harness behind ``qa eval``: index a SQuAD-format file as documents, ask every question
through the library entry point (``build_index`` + ``Answerer.ask``), and score the answers.

Per retrieval mode it reports (all rates are fractions in [0, 1]; see ``qa.evaluation.metrics`` for the exact
definitions):

- ``recall@k`` (k = 1 ... ``n_passages``): a passage among the first k listed (as ``Answer.passages``
  lists them: the one the reader quotes its best span from first, then the retriever's order) overlaps
  the gold paragraph in the gold document and contains a gold answer text;
- ``em`` / ``f1``: official SQuAD normalization, max over gold answers; "not found" counts as the
  empty answer (wrong for every answerable question, right for an impossible SQuAD 2.0 one);
- ``sentence_accuracy``: an answer was given and its cited sentence contains a gold answer text
  (``sentence_accuracy_in_paragraph``: and that sentence lies in the gold paragraph);
- ``citation_accuracy``: an answer was given and its span lies inside the gold paragraph;
- ``answered``: share of questions that got an answer rather than "not found"; ``answered_accuracy``:
  the share right (F1 >= 0.5) among them;
- calibration (``qa.evaluation.calibration``): ``ece`` (expected calibration error, 10 bins, a
  question is right when answered with F1 >= 0.5), ``aurc`` (area under the risk-coverage curve of the
  best spans: it covers every threshold, so the run's own threshold does not enter it) and
  ``reliability`` (per bin: questions, mean confidence, share right); ``ece_span`` is the ECE of the
  confidence itself: every question's best span judged right or wrong whether or not it cleared the
  threshold (the questions are asked at threshold 0 and the threshold applied when scoring, exactly
  as the engine applies it);
- SQuAD 2.0 files: ``noanswer_precision`` (of the "not found" answers, the share on impossible
  questions; null when there were none) and ``noanswer_recall`` (of the impossible questions, the
  share answered "not found"); recall, sentence and citation accuracy then count answerable
  questions only, EM / F1 all of them (``em_answerable`` / ``f1_answerable`` for the answerable ones);
- ``by_question_form`` (``qa.evaluation.question_forms``): per form of question (what, which, who, when,
  where, how many / much, how, why, yes / no, other): questions, ``f1``, ``span_f1`` (the best span's,
  given or not) and the mean words of the best span and of the gold answers (does the length fit?);
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

from qa.answer.results import Answer
from qa.errors import QAError
from qa.evaluation.calibration import calibration_report, expected_calibration_error
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
from qa.evaluation.question_forms import by_form
from qa.evaluation.squad import (
    Question,
    SquadSet,
    load_squad,
    sample_questions,
    write_corpus,
)
from qa.settings import MODES, Settings, check_mode

log = logging.getLogger(__name__)

STAGES = ("embed", "dense", "bm25", "fuse", "search", "rerank", "read", "total")
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
    embedder.load()  # load the model outside the build timing
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


@dataclass
class Scored:
    """One question asked and scored."""

    question: Question
    answer: Answer | None  # asked at threshold 0; None: the engine refused the question (an error)
    given: bool  # the answer clears the threshold: the engine would quote it, not say "not found"
    em: float
    f1: float
    span_f1: float  # F1 of the best span, given or not
    rank: int | None = None  # first passage that holds the gold answer (answerable questions only)
    sentence: bool = False
    sentence_in_paragraph: bool = False
    cited: bool = False

    @property
    def prediction(self) -> str | None:
        """What the engine answers at the threshold (None: "not found")."""
        return self.answer.answer if self.given else None

    @property
    def confidence(self) -> float:
        return self.answer.confidence if self.answer is not None else 0.0

    @property
    def correct(self) -> bool:
        """An answer was given and it is right enough (F1 >= 0.5)."""
        return self.given and self.f1 >= 0.5

    @property
    def span_right(self) -> bool:
        """The best span, given or not, is right enough: what the confidence itself predicts."""
        return self.span_f1 >= 0.5


def score_question(q: Question, ans: Answer | None, n_passages: int, threshold: float) -> Scored:
    """Score an answer asked at threshold 0 as the engine would give it at ``threshold`` (the threshold
    only decides between quoting the best span and "not found")."""
    best = ans.answer if ans is not None else None
    given = best is not None and ans.confidence >= threshold
    prediction = best if given else None
    s = Scored(q, ans, given, exact_match(prediction, q.answers), f1(prediction, q.answers),
               f1(best, q.answers) if best is not None else 0.0)
    p = q.paragraph
    if not q.impossible and ans is not None:
        s.rank = first_hit_rank(ans.passages[:n_passages], p.source, p.start, p.end, q.answers)
        if given:
            s.sentence = sentence_hit(ans, q.answers)
            s.sentence_in_paragraph = sentence_in_paragraph_hit(ans, p.source, p.start, p.end, q.answers)
            s.cited = citation_hit(ans, p.source, p.start, p.end)
    return s


def detail_line(s: Scored, mode: str) -> dict:
    """One line of ``--details``."""
    q, ans = s.question, s.answer
    c = ans.citations[0] if ans.citations else None
    return {
        "id": q.id, "mode": mode, "question": q.question, "gold": q.answers, "impossible": q.impossible,
        "answer": s.prediction, "best_answer": ans.answer, "confidence": ans.confidence,
        "answer_type": ans.answer_type,
        "rank": s.rank, "em": s.em, "f1": round(s.f1, 4),
        "sentence": c.sentence if c else None, "source": c.source if c else None,
        "gold_source": q.paragraph.source, "total_ms": round(ans.timings_ms.get("total", 0.0), 2),
    }


def evaluate_mode(answerer, questions, *, mode: str, k: int, n_passages: int, threshold: float, v2: bool = False,
                  progress: bool = True, details=None, scope_article: bool = False) -> dict:
    """Ask every question in one mode and score it at ``threshold``; returns the metrics (see the module
    docstring). The answerer must answer at threshold 0. ``scope_article``: ask each question of its own
    article's document only."""
    from tqdm import tqdm

    n_passages = max(n_passages, k)
    answerer.ask(questions[0].question, k=k, mode=mode, n_passages=n_passages)  # warm: not timed
    scored: list[Scored] = []
    t0 = time.perf_counter()
    for q in tqdm(questions, desc=f"eval {mode}", unit="q", disable=not progress, file=sys.stderr, mininterval=1.0):
        try:
            ans = answerer.ask(q.question, k=k, mode=mode, n_passages=n_passages,
                               scope=[q.paragraph.source] if scope_article else None)
        except QAError as exc:  # e.g. a question with no text: count it as "not found", keep going
            ans = None
            if details is not None:
                details.write(json.dumps({"id": q.id, "mode": mode, "error": str(exc)}) + "\n")
        scored.append(score_question(q, ans, n_passages, threshold))
        if details is not None and ans is not None:
            details.write(json.dumps(detail_line(scored[-1], mode), ensure_ascii=False) + "\n")
    out = {"mode": mode, **summarize(scored, n_passages=n_passages, v2=v2)}
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def _share(count: float, total: int) -> float | None:
    return _round(count / total) if total else None


def summarize(scored: list[Scored], *, n_passages: int, v2: bool) -> dict:
    """The metrics of one mode from its scored questions."""
    n = len(scored)
    answerable = [s for s in scored if not s.question.impossible]
    impossible = [s for s in scored if s.question.impossible]
    ranks = [s.rank for s in answerable]
    out: dict = {"questions": n, "answerable": len(answerable)}
    for kk in (1, 5, 20):
        out[f"recall@{kk}"] = _round(recall_at(ranks, kk)) if kk <= n_passages else None
    out["recall_curve"] = [_round(recall_at(ranks, kk)) for kk in range(1, n_passages + 1)]
    out["mrr"] = _round(sum(1 / r for r in ranks if r is not None) / len(ranks)) if ranks else 0.0
    out.update(
        em=_round(sum(s.em for s in scored) / n),
        f1=_round(sum(s.f1 for s in scored) / n),
        sentence_accuracy=_share(sum(s.sentence for s in answerable), len(answerable)),
        sentence_accuracy_in_paragraph=_share(sum(s.sentence_in_paragraph for s in answerable), len(answerable)),
        citation_accuracy=_share(sum(s.cited for s in answerable), len(answerable)),
    )
    if v2:
        not_found = [s for s in scored if s.prediction is None]
        out.update(
            impossible=len(impossible),
            noanswer_precision=_share(sum(s.question.impossible for s in not_found), len(not_found)),
            noanswer_recall=_share(sum(s.prediction is None for s in impossible), len(impossible)),
            em_answerable=_share(sum(s.em for s in answerable), len(answerable)),
            f1_answerable=_share(sum(s.f1 for s in answerable), len(answerable)),
        )
    confidences = [s.confidence for s in scored]
    span_right = [s.span_right for s in scored]
    # AURC over the best spans: selective answering over every threshold at once
    out.update(calibration_report(confidences, [s.correct for s in scored], [s.given for s in scored], span_right))
    out["ece_span"] = _round(expected_calibration_error(confidences, span_right))
    out["by_question_form"] = by_form([(s.question.question, s.f1, s.span_f1, s.answer.answer if s.answer else None,
                                        s.question.answers) for s in scored])
    out.update(latency(s.answer for s in scored if s.answer is not None))
    out["errors"] = sum(s.answer is None for s in scored)
    return out


def latency(answers) -> dict:
    """p50 / p95 of the total and per stage, from the engine's own ``timings_ms``."""
    timings: dict[str, list[float]] = {s: [] for s in STAGES}
    for ans in answers:
        for stage in STAGES:
            if stage in ans.timings_ms:
                timings[stage].append(ans.timings_ms[stage])
    return {
        "latency_p50_ms": _round(percentile(timings["total"], 50), 2),
        "latency_p95_ms": _round(percentile(timings["total"], 95), 2),
        "latency_ms": {
            s: {"p50": _round(percentile(v, 50), 2), "p95": _round(percentile(v, 95), 2),
                "mean": _round(sum(v) / len(v), 2) if v else None}
            for s, v in timings.items() if v
        },
    }


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
    import onnxruntime

    from qa.settings import Settings

    settings = Settings.from_env()
    info.update(backend=settings.backend, onnxruntime=onnxruntime.__version__, model_threads=settings.threads or 1)
    return info


def check_scope(scope: str | None, layout: str) -> None:
    if scope not in (None, "article"):
        raise QAError(f"unknown scope '{scope}'; the only scope is 'article'")
    if scope and layout != "article":
        raise QAError("--scope article needs --layout article (one document per article)")


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
    scope: str | None = None,
    progress: bool = True,
    details: str | Path | None = None,
    embedder=None,
) -> dict:
    """Build a scratch index of ``data`` and evaluate each mode on it; returns the result object: the first
    mode's metrics at the top level, each mode's in ``by_mode`` when there are several. ``settings``
    (default ``Settings.from_env()``) gives the reader, threshold, ``k``, ``n_passages`` and ``store`` (a
    ``postgresql://`` URL whose contents are replaced by the data set). ``index_dir`` keeps and reuses the
    scratch corpus and index; else a temporary folder is removed unless ``keep``. ``scope="article"``
    asks each question of its own article only (article layout only)."""
    from qa.answer.pipeline import Answerer
    from qa.index.embedder import Embedder

    settings = settings or Settings.from_env()
    k, n_passages, store = settings.k, max(settings.n_passages, settings.k), settings.store
    modes = [check_mode(m) for m in (modes or [settings.mode])]
    check_scope(scope, layout)
    t_start = time.perf_counter()
    squad = load_squad(data)
    questions = sample_questions(squad.questions, limit, seed)
    embedder = embedder or Embedder(threads=settings.threads)
    workdir, temporary = prepare_workdir(index_dir)
    sink = open(details, "w", encoding="utf-8") if details else None
    try:
        build = build_eval_index(squad, workdir, layout=layout, embedder=embedder, progress=progress, store=store)
        # asked at threshold 0 and scored at the threshold: every question carries the best span
        answerer = Answerer(store or workdir / "index", embedder=embedder, settings=settings.with_(threshold=0.0))
        check_offsets(answerer, squad)
        by_mode = {m: evaluate_mode(answerer, questions, mode=m, k=k, n_passages=n_passages,
                                    threshold=settings.threshold, v2=squad.v2, progress=progress, details=sink,
                                    scope_article=scope == "article") for m in modes}
        answerer.store.close()
    finally:
        if sink:
            sink.close()
        _clean_up(workdir, temporary=temporary, keep=keep)

    result = {
        **describe_run(data=data, squad=squad, answerer=answerer, build=build, layout=layout, scope=scope,
                       limit=limit, seed=seed, k=k, n_passages=n_passages, threshold=settings.threshold),
        **by_mode[modes[0]],
        "modes": modes,
        "workdir": None if temporary and not keep else str(workdir),
        "machine": machine_info(),
        "total_seconds": round(time.perf_counter() - t_start, 2),
    }
    if len(modes) > 1:
        result["by_mode"] = by_mode
    return result


def _clean_up(workdir: Path, *, temporary: bool, keep: bool) -> None:
    if temporary and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    elif temporary:
        log.info("qa eval: scratch corpus and index kept in %s", workdir)


def describe_run(*, data, squad: SquadSet, answerer, build: BuildInfo, layout: str, scope: str | None,
                 limit: int | None, seed: int, k: int, n_passages: int, threshold: float) -> dict:
    """What was evaluated, and how: the data set, the engine's settings, the index build."""
    return {
        "data": str(data),
        "version": squad.version,
        "squad2": squad.v2,
        "layout": layout,
        "scope": scope,
        "articles": len(squad.titles),
        "paragraphs": len(squad.paragraphs),
        "questions_in_file": len(squad.questions),
        "limit": limit,
        "seed": seed,
        "k": k,
        "n_passages": n_passages,
        "threshold": threshold,
        "reader": getattr(answerer, "reader_name", None),
        "rerank": answerer.settings.rerank,
        "store": answerer.index.kind,
        **build.as_dict(),
    }


def _f(x, nd: int = 3) -> str:
    return "—" if x is None else f"{x:.{nd}f}"


def format_table(result: dict) -> str:
    """The result as Markdown: one row per mode, then the build and latency lines."""
    by_mode = result.get("by_mode") or {result["mode"]: result}
    v2 = result.get("squad2")
    head = ["mode", "questions", "R@1", "R@5", "R@20", "EM", "F1", "sentence", "citation", "answered",
            "right/answered", "ECE", "AURC"]
    if v2:
        head += ["no-ans P", "no-ans R"]
    head += ["p50 ms", "p95 ms", "embed p50", "search p50", "read p50"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mode, r in by_mode.items():
        lat = r.get("latency_ms", {})
        row = [mode, str(r["questions"]), _f(r["recall@1"]), _f(r["recall@5"]), _f(r["recall@20"]),
               _f(r["em"]), _f(r["f1"]), _f(r["sentence_accuracy"]), _f(r["citation_accuracy"]), _f(r["answered"]),
               _f(r.get("answered_accuracy")), _f(r.get("ece")), _f(r.get("aurc"))]
        if v2:
            row += [_f(r.get("noanswer_precision")), _f(r.get("noanswer_recall"))]
        row += [_f(r["latency_p50_ms"], 1), _f(r["latency_p95_ms"], 1)]
        row += [_f(lat.get(s, {}).get("p50"), 1) for s in ("embed", "search", "read")]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "By form of question (F1 as answered; F1 of the best span; words in the best span / in the gold):", "",
              "| mode | form | questions | F1 | best span F1 | words: answer / gold |", "|---|---|---|---|---|---|"]
    for mode, r in by_mode.items():
        for form, f in (r.get("by_question_form") or {}).items():
            lines.append(f"| {mode} | {form} | {f['questions']} | {_f(f['f1'])} | {_f(f['span_f1'])} | "
                         f"{_f(f['answer_words'], 1)} / {_f(f['gold_words'], 1)} |")
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
    if result.get("rerank"):
        lines.append(f"Reranked the first {result['rerank']} passages with the span reader (rerank p50 per mode: "
                     + ", ".join(f"{m} {_f(r.get('latency_ms', {}).get('rerank', {}).get('p50'), 1)} ms"
                                 for m, r in by_mode.items()) + ").")
    return "\n".join(lines)
