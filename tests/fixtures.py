"""Small documents made on the fly for the tests (real files in real formats)."""

import io
from pathlib import Path

MARKDOWN = """# Solar Orbiter

Solar Orbiter is a space probe that studies the Sun.

## Launch

Solar Orbiter was launched on 10 February 2020 from Cape Canaveral aboard an Atlas V rocket.
The mission is led by the European Space Agency.

## Instruments

```
# not a heading: a comment inside a code block
```

It carries ten instruments, including a magnetometer.
"""

HTML = """<!doctype html><html><head><title>Glaciers</title>
<style>body { color: red }</style><script>document.title = "pwned"; alert(1)</script></head>
<body><h1>Glaciers of Patagonia</h1>
<p>The Perito Moreno Glacier is located in Los Glaciares National Park in Argentina.</p>
<h2>Size</h2>
<p>The glacier covers an area of 250 square kilometres and is 30 kilometres long.</p>
<img src=x onerror="alert(2)">
</body></html>
"""

PDF_PAGES = [
    "The Aral Sea was an endorheic lake lying between Kazakhstan and Uzbekistan.",
    "By 2007 the Aral Sea had declined to 10 percent of its original size. "
    "The diversion of rivers for irrigation by Soviet planners caused the decline.",
]


def make_pdf(path: Path, pages=PDF_PAGES, title: str | None = None) -> Path:
    """A PDF with a text layer, one page per text; ``title`` goes into its metadata."""
    path.write_bytes(make_pdf_bytes(list(pages), title=title))
    return path


def make_pdf_bytes(pages: list[str], *, title: str | None = None, compress: bool = True, image: bool = False) -> bytes:
    """A PDF with a text layer, one page per text (compressed or not); ``title`` goes into its metadata;
    ``image`` adds a last page holding only a blank picture (a scan with nothing on it)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_compression(compress)
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    if image:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("L", (60, 20), 255).save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(buffer, x=10, y=10, w=60)
    return bytes(pdf.output())



def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes").mkdir(exist_ok=True)
    (folder / "notes" / "solar.md").write_text(MARKDOWN)
    (folder / "glaciers.html").write_text(HTML)
    make_pdf(folder / "aral.pdf")
    return folder


def skip_reasons(stderr: str) -> dict[str, str]:
    """``qa index``'s "skipped FILE: reason" lines, by file."""
    return {line.split(": ", 1)[0].removeprefix("skipped "): line for line in stderr.splitlines()
            if line.startswith("skipped ")}
