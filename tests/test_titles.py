"""Every document gets a title for people (its own title, first heading or first line, else its file
name), stored in both stores, shown on citations and passages; PostgreSQL databases built before titles
still open (an embedded index of an older layout is rebuilt: see test_index)."""


import pytest

from qa import Answerer, build_index
from qa.index.store import open_index
from qa.ingest.documents import clean_title, load_document

from .fixtures import HTML, MARKDOWN, make_pdf

LONG_LINE = "A remarkably long opening line " * 6


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def titled_pdf(path, title=None):
    return make_pdf(path, ("Lake Baikal is the deepest lake in the world.",), title)


@pytest.mark.parametrize(
    "name,content,title",
    [
        ("solar.md", MARKDOWN, "Solar Orbiter"),
        ("sub.md", "Intro line.\n\n## Only a subheading\n\nText.\n", "Only a subheading"),
        ("g.html", HTML, "Glaciers of Patagonia"),  # the first <h1> before <title>
        ("t.html", "<html><head><title>Tides &amp; Moons</title></head><body><h2>Low</h2><p>x.</p></body></html>",
         "Tides & Moons"),
        ("notes.txt", "\n\n   \n  Shopping list for Monday  \nmilk\n", "Shopping list for Monday"),
        ("dots.txt", "....\n----\nReal first line.\n", "Real first line."),
    ],
)
def test_title_from_the_documents_own_words(tmp_path, name, content, title):
    assert load_document(write(tmp_path, name, content), name).title == title


def test_a_long_first_line_is_cut_at_a_word(tmp_path):
    title = load_document(write(tmp_path, "long.txt", LONG_LINE + "\nmore"), "long.txt").title
    assert len(title) <= 80 and title.endswith("…") and LONG_LINE.startswith(title[:-1])


def test_pdf_title_from_metadata_else_first_line(tmp_path):
    assert load_document(titled_pdf(tmp_path / "a.pdf", "Siberian Lakes"), "a.pdf").title == "Siberian Lakes"
    untitled = titled_pdf(tmp_path / "b.pdf", "Untitled")
    assert load_document(untitled, "b.pdf").title == "Lake Baikal is the deepest lake in the world."


def test_clean_title_refuses_junk():
    assert clean_title("  \n ") is None and clean_title("Microsoft Word - draft7.docx") is None
    assert clean_title("***") is None
    assert clean_title("Two\n  lines") == "Two lines"


@pytest.fixture(scope="module")
def titled_index(tmp_path_factory, embedder):
    corpus = tmp_path_factory.mktemp("titled-corpus")
    write(corpus, "solar.md", MARKDOWN)
    write(corpus, "glaciers.html", HTML)
    titled_pdf(corpus / "baikal.pdf", "Siberian Lakes")
    index = tmp_path_factory.mktemp("titled-index")
    build_index(corpus, index, embedder=embedder, progress=False)
    return corpus, index


def test_titles_are_stored_and_cited_beside_the_file_name(titled_index, embedder):
    corpus, index = titled_index
    store, _ = open_index(index).open_metadata()
    try:
        assert {d.source: d.title for d in store.documents()} == {
            "baikal.pdf": "Siberian Lakes", "glaciers.html": "Glaciers of Patagonia", "solar.md": "Solar Orbiter"}
        assert store.titles(["solar.md", "nope.txt"]) == {"solar.md": "Solar Orbiter"}
    finally:
        store.close()
    answer = Answerer(index, embedder=embedder).ask("When was Solar Orbiter launched?")
    c = answer.citations[0]
    assert (c.source, c.title) == ("solar.md", "Solar Orbiter")
    assert answer.to_dict()["citations"][0]["title"] == "Solar Orbiter"
    assert all(p.title for p in answer.passages)
    assert {p.source: p.title for p in answer.passages}["glaciers.html"] == "Glaciers of Patagonia"


def test_postgres_stores_titles_and_reads_a_database_built_before_them(tmp_path, pg_server, embedder):
    import psycopg

    from .conftest import new_database

    url = new_database(pg_server)
    corpus = tmp_path / "docs"
    corpus.mkdir()
    write(corpus, "solar.md", MARKDOWN)
    build_index(corpus, url, embedder=embedder, progress=False)
    store, _ = open_index(url).open_metadata()
    assert [d.title for d in store.documents()] == ["Solar Orbiter"]
    store.close()

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE qa_documents DROP COLUMN title")
    answer = Answerer(url, embedder=embedder).ask("When was Solar Orbiter launched?")
    assert answer.found and answer.citations[0].title == "solar.md"

    write(corpus, "glaciers.html", HTML)
    build_index(corpus, url, embedder=embedder, progress=False)
    store, _ = open_index(url).open_metadata()
    assert {d.source: d.title for d in store.documents()} == {
        "glaciers.html": "Glaciers of Patagonia", "solar.md": "solar.md"}
    store.close()
