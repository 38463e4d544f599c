"""OCR engines compared on rendered pages of the seed article, and the seed questions asked of a scan.

1. The seed article is typeset onto A4 pages (Pillow's bundled font, Aileron Regular, 11 pt, 1-inch
   margins) at 150 and 300 dpi; each engine (rapidocr, tesseract where installed) reads every page.
   Character accuracy = 1 - edit distance / length, on whitespace-squeezed text; pages per second.
2. The 300-dpi pages become an image-only PDF (no text layer); that PDF alone is indexed (through the
   engine's normal path: qa.ingest.ocr, default engine) and the 16 seed questions are asked of it. A
   question is right when the scan gives the answer the text index gives (contained either way, after
   squeezing whitespace), or, for the two off-topic questions, no answer.

Run: .venv/bin/python bench/ocr.py [--out bench/out/ocr.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = ROOT / "seeds" / "000_68c7ef664bad3911.txt"
QUESTIONS = ROOT / "bench" / "seed_questions.txt"
POINTS = 11


def typeset(text: str, dpi: int):
    """A4 pages of ``text`` as greyscale images, and the text each page holds."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(POINTS * dpi / 72)
    width, height, margin = round(8.27 * dpi), round(11.69 * dpi), dpi
    line_height = round(POINTS * dpi / 72 * 1.35)
    lines: list[str] = []
    for paragraph in text.splitlines():
        words, line = paragraph.split(), ""
        for word in words:
            candidate = f"{line} {word}".strip()
            if font.getlength(candidate) > width - 2 * margin and line:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
        lines.append("")
    per_page = (height - 2 * margin) // line_height
    pages = []
    for i in range(0, len(lines), per_page):
        chunk = lines[i:i + per_page]
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        for n, line in enumerate(chunk):
            draw.text((margin, margin + n * line_height), line, font=font, fill=0)
        pages.append((image, " ".join(" ".join(chunk).split())))
    return pages


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def compare_engines(text: str) -> list[dict]:
    from qa.ingest import ocr

    rows = []
    names = ["rapidocr"] + (["tesseract"] if shutil.which("tesseract") else [])
    for dpi in (150, 300):
        pages = typeset(text, dpi)
        for name in names:
            engine = ocr.engine(name)
            engine.read(pages[0][0].crop((0, 0, 600, 300)))  # load the models outside the timing
            errors = chars = 0
            seconds = 0.0
            for image, truth in pages:
                t = time.perf_counter()
                read = " ".join(engine.read(ocr._for_ocr(image)).text.split())
                seconds += time.perf_counter() - t
                errors += edit_distance(read, truth)
                chars += len(truth)
            row = {"engine": name, "dpi": dpi, "pages": len(pages), "char_accuracy": round(1 - errors / chars, 4),
                   "pages_per_s": round(len(pages) / seconds, 3)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def squeeze(s: str | None) -> str:
    return " ".join((s or "").split()).lower()


def seed_questions_on_a_scan(text: str, work: Path) -> dict:
    from fpdf import FPDF

    from qa import Answerer, build_index
    from qa.index.embedder import Embedder

    pdf = FPDF(unit="pt", format="A4")
    for n, (image, _) in enumerate(typeset(text, 300)):
        png = work / f"page-{n}.png"
        image.save(png)
        pdf.add_page()
        pdf.image(str(png), x=0, y=0, w=pdf.w, h=pdf.h)
    (work / "scan").mkdir()
    pdf.output(str(work / "scan" / "seed-scan.pdf"))
    embedder = Embedder()
    t = time.perf_counter()
    build_index(work / "scan", work / "scan-index", embedder=embedder, progress=False)
    index_seconds = time.perf_counter() - t
    build_index(SEED.parent, work / "text-index", embedder=embedder, progress=False)
    scan, plain = Answerer(work / "scan-index", embedder=embedder), Answerer(work / "text-index", embedder=embedder)
    questions = [q for q in QUESTIONS.read_text().splitlines() if q.strip()]
    right, details = 0, []
    for q in questions:
        a, b = scan.ask(q), plain.ask(q)
        ok = (squeeze(a.answer) in squeeze(b.answer) or squeeze(b.answer) in squeeze(a.answer)) if b.found and a.found \
            else a.found == b.found
        if a.found:
            c = a.citations[0]
            assert scan.document_text(c.source)[c.start:c.end] == a.answer
        right += ok
        details.append({"question": q, "scan": a.answer, "text": b.answer, "right": ok,
                        "location": a.citations[0].location if a.found else None})
        print(json.dumps(details[-1]), flush=True)
    return {"questions": len(questions), "right": right, "index_seconds": round(index_seconds, 1), "details": details}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "ocr.json"))
    parser.add_argument("--engine", choices=["rapidocr", "tesseract"], help="OCR engine of the scan's index "
                        "(default: the engine's default, tesseract where installed)")
    parser.add_argument("--scan-only", action="store_true", help="skip the engine comparison")
    args = parser.parse_args()
    text = SEED.read_text()
    # the machine is shared: speeds mean little without the load they ran under
    result = {"font": f"Pillow's bundled Aileron Regular, {POINTS} pt, A4, 1-inch margins",
              "load_average_before": [round(x, 2) for x in os.getloadavg()],
              "engines": [] if args.scan_only else compare_engines(text)}
    if args.engine:
        from qa.ingest import ocr

        original = ocr.engine
        ocr.engine = lambda name=None: original(name or args.engine)
    result["scan_engine"] = args.engine or ("tesseract" if shutil.which("tesseract") else "rapidocr")
    with tempfile.TemporaryDirectory() as tmp:
        result["seed_scan"] = seed_questions_on_a_scan(text, Path(tmp))
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"seed questions right on the scan: {result['seed_scan']['right']}/{result['seed_scan']['questions']}")


if __name__ == "__main__":
    main()
