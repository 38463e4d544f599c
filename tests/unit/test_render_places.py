"""ui.render's citation labels: title, page (marked when read by OCR), section; the exact place in the tip."""

from ui.render import place_label, place_tip


def test_a_citation_reads_title_page_and_section():
    item = {"source": "docs/report.pdf", "title": "Annual report", "page": 3, "section": "Results", "start": 5,
            "end": 9}
    assert place_label(item) == "Annual report — p. 3 / § Results"
    assert place_tip(item) == "docs/report.pdf · characters 5–9"


def test_a_page_read_by_ocr_says_so_and_a_missing_title_falls_back_to_the_file_name():
    item = {"source": "scans/letter.pdf", "title": "", "page": 2, "section": None, "ocr": True}
    assert place_label(item) == "letter.pdf — p. 2 (OCR)"

