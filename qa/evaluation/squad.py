"""SQuAD-format data sets: read them (plain or gzipped JSON), pick questions, write them out as documents.

The evaluation corpus is written the way a user's folder would look: one ``.txt`` file per article
(``layout="article"``, the default), its paragraphs joined by a blank line, so the chunker sees real
multi-paragraph documents. ``layout="paragraph"`` writes one file per paragraph instead, which is how
the yardsticks in ``../shared/yardsticks.md`` were measured. Either way every paragraph's exact
character range in its written document is kept, so gold answers can be located in the index.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import QAError

PARAGRAPH_SEPARATOR = "\n\n"
LAYOUTS = ("article", "paragraph")


@dataclass
class Paragraph:
    article: int  # index of the article in the file
    index: int  # index of the paragraph in its article
    context: str
    source: str = ""  # the written document it lives in (path relative to the corpus folder)
    start: int = 0  # its character range in that document's text
    end: int = 0


@dataclass
class Question:
    id: str
    question: str
    answers: list[str]  # gold answer texts, in file order (duplicates kept); empty when impossible
    paragraph: Paragraph
    impossible: bool = False
    order: int = 0  # position among all questions of the file, in file order


@dataclass
class SquadSet:
    path: str
    version: str | None
    titles: list[str]
    paragraphs: list[Paragraph]
    questions: list[Question] = field(default_factory=list)
    v2: bool = False  # SQuAD 2.0 style: questions carry ``is_impossible``


def load_squad(path: str | Path) -> SquadSet:
    """Read a SQuAD v1.1 or v2.0 JSON file (``.gz`` or plain). Raises QAError when it is not one."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QAError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise QAError(f"'{path}' is not a valid gzip file ({exc})") from exc
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QAError(f"'{path}' is not JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise QAError(f"'{path}' is not in SQuAD format (no top-level \"data\" list)")

    out = SquadSet(str(path), data.get("version"), [], [])
    order = 0
    v2 = False
    try:
        for a, article in enumerate(data["data"]):
            out.titles.append(str(article.get("title") or f"article {a}"))
            for p, para in enumerate(article["paragraphs"]):
                paragraph = Paragraph(a, p, para["context"])
                out.paragraphs.append(paragraph)
                for qa in para.get("qas", []):
                    impossible = bool(qa.get("is_impossible", False))
                    v2 = v2 or "is_impossible" in qa
                    answers = [] if impossible else [str(x["text"]) for x in qa.get("answers", [])]
                    if not impossible and not answers:
                        continue  # an answerable question without answers cannot be scored
                    out.questions.append(Question(str(qa["id"]), qa["question"], answers, paragraph, impossible, order))
                    order += 1
    except (KeyError, TypeError, AttributeError) as exc:
        raise QAError(f"'{path}' is not in SQuAD format (missing or wrong field: {exc})") from exc
    out.v2 = v2
    if not out.questions:
        raise QAError(f"'{path}' holds no questions")
    return out


def sample_questions(questions: list[Question], limit: int | None, seed: int = 0) -> list[Question]:
    """All questions, or ``limit`` of them drawn without replacement, in file order.

    Uses ``numpy.random.default_rng(seed).choice(len(questions), limit, replace=False)``, so
    ``limit=2000, seed=0`` on SQuAD v1.1 dev picks the yardsticks' question sample.
    """
    if limit is None or limit >= len(questions):
        return list(questions)
    if limit < 1:
        raise QAError("--limit must be at least 1")
    import numpy as np

    picked = np.random.default_rng(seed).choice(len(questions), limit, replace=False)
    return [questions[i] for i in sorted(int(i) for i in picked)]


def slug(title: str, width: int = 60) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return text[:width].rstrip("-") or "untitled"


def document_texts(squad: SquadSet, layout: str = "article") -> dict[str, str]:
    """The documents to index, ``{source: text}``; fills in each paragraph's source and range.

    Contexts are written verbatim (no newline translation), so offsets in the index equal offsets
    here: ``text[p.start:p.end] == p.context``.
    """
    if layout not in LAYOUTS:
        raise QAError(f"unknown layout '{layout}'; choose one of: {', '.join(LAYOUTS)}")
    docs: dict[str, str] = {}
    by_article: dict[int, list[Paragraph]] = {}
    for p in squad.paragraphs:
        by_article.setdefault(p.article, []).append(p)
    for a, paragraphs in by_article.items():
        name = f"{a:03d}_{slug(squad.titles[a])}"
        if layout == "paragraph":
            for p in paragraphs:
                p.source, p.start, p.end = f"{name}/{p.index:03d}.txt", 0, len(p.context)
                docs[p.source] = p.context
            continue
        parts: list[str] = []
        pos = 0
        for p in paragraphs:
            if parts:
                parts.append(PARAGRAPH_SEPARATOR)
                pos += len(PARAGRAPH_SEPARATOR)
            p.source, p.start, p.end = f"{name}.txt", pos, pos + len(p.context)
            parts.append(p.context)
            pos += len(p.context)
        docs[f"{name}.txt"] = "".join(parts)
    return docs


def write_corpus(squad: SquadSet, folder: str | Path, layout: str = "article") -> dict[str, str]:
    """Write the documents under ``folder`` (removing other .txt files there); returns ``{source: text}``.

    Files whose content is already right are left untouched, so an index of the folder stays current.
    """
    folder = Path(folder)
    docs = document_texts(squad, layout)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.rglob("*.txt"):
        if old.relative_to(folder).as_posix() not in docs:
            old.unlink()
    for source, text in docs.items():
        path = folder / source
        data = text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return docs
