"""Re-create the SQuAD slices in this folder from the full files in ../shared/data (run from the repo root):

    .venv/bin/python tests/data/make_slices.py
"""

import gzip
import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
HERE = Path(__file__).resolve().parent

SLICES = {
    # output file: (source file, [(article title, number of leading paragraphs), ...])
    "squad-v1.1-dev-slice.json": ("squad-v1.1-dev.json.gz", [("Warsaw", 5), ("Amazon_rainforest", 5)]),
    "squad-v2.0-dev-slice.json": ("squad-v2.0-dev.json.gz", [("Normans", 3), ("Sky_(United_Kingdom)", 3)]),
}


def main() -> None:
    for out, (src, picks) in SLICES.items():
        with gzip.open(DATA / src, "rt", encoding="utf-8") as f:
            data = json.load(f)
        by_title = {a["title"]: a for a in data["data"]}
        articles = [{"title": t, "paragraphs": by_title[t]["paragraphs"][:n]} for t, n in picks]
        text = json.dumps({"version": data.get("version"), "data": articles}, ensure_ascii=False, indent=1)
        (HERE / out).write_text(text + "\n", encoding="utf-8")
        qs = sum(len(p["qas"]) for a in articles for p in a["paragraphs"])
        print(f"{out}: {len(articles)} articles, {sum(len(a['paragraphs']) for a in articles)} paragraphs, {qs} questions")


if __name__ == "__main__":
    main()
