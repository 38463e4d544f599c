"""The MCP server with the official SDK's own client: ``qa mcp`` over stdio (one real process over the
seed index for the module) and ``qa serve --mcp --mcp-write --auth`` over streamable HTTP (one real chat
server over a copy of seeds/). Answers come from the real model and index."""

import base64
import contextlib
import os
import shutil
import sys

import pytest
from anyio.from_thread import start_blocking_portal
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.conftest import JAPAN_Q, OFF_TOPIC_Q, ROOT, SEEDS, serving

READ_ONLY = ["ask", "list_documents", "read"]


class Session:
    """A connected SDK ``Client`` driven from synchronous tests (its event loop runs in a portal thread)."""

    def __init__(self, portal, client) -> None:
        self.portal, self.client = portal, client

    def tools(self) -> dict:
        return {t.name: t for t in self.portal.call(self.client.list_tools).tools}

    def call(self, name: str, arguments: dict | None = None):
        return self.portal.call(self.client.call_tool, name, arguments)

    def ok(self, name: str, arguments: dict | None = None) -> dict:
        result = self.call(name, arguments)
        assert not result.is_error, result.content[0].text
        return result.structured_content

    def error(self, name: str, arguments: dict | None = None) -> str:
        result = self.call(name, arguments)
        assert result.is_error and result.structured_content is None
        (content,) = result.content
        assert "\n" not in content.text
        return content.text


@contextlib.contextmanager
def connected(server):
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(
            Client(server, read_timeout_seconds=300)) as client:
        yield Session(portal, client)


def qa_mcp(*args) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp", *map(str, args)], cwd=str(ROOT),
                                 env=dict(os.environ, HF_HUB_OFFLINE="1"))


@pytest.fixture(scope="module")
def stdio(seed_index):
    with connected(qa_mcp("--index", seed_index)) as session:
        yield session


def test_stdio_offers_the_read_only_tools(stdio):
    tools = stdio.tools()
    assert list(tools) == READ_ONLY
    assert tools["ask"].input_schema["required"] == ["question"]
    assert "null" in tools["ask"].description and tools["ask"].annotations.read_only_hint


def test_ask_answers_with_a_citation_that_read_returns_verbatim(stdio, answerer):
    result = stdio.ok("ask", {"question": JAPAN_Q})
    expected = answerer.ask(JAPAN_Q).to_dict()  # the `qa ask --json` object
    assert result.keys() == expected.keys()
    assert result["answer"] == expected["answer"] == "$16 billion"
    assert result["citations"] == expected["citations"]
    c = result["citations"][0]
    assert stdio.ok("read", {"source": c["source"], "start": c["start"], "end": c["end"]})["text"] == "$16 billion"
    sentence = stdio.ok("read", {"source": c["source"], "start": c["sentence_start"], "end": c["sentence_end"]})
    assert sentence["text"] == c["sentence"]


def test_not_found_is_a_null_answer_with_the_closest_passages(stdio):
    result = stdio.ok("ask", {"question": OFF_TOPIC_Q})
    assert result["answer"] is None and result["citations"] == [] and result["passages"]


def test_list_documents_and_a_scoped_question(stdio):
    listing = stdio.ok("list_documents")
    assert listing["count"] == len(listing["documents"]) == len(list(SEEDS.iterdir()))
    doc = listing["documents"][0]
    assert doc.keys() == {"source", "title", "type", "size", "chunks", "indexed_at"}
    assert doc["type"] == "txt" and doc["chunks"] > 0 and doc["size"] == (SEEDS / doc["source"]).stat().st_size
    scoped = stdio.ok("ask", {"question": JAPAN_Q, "documents": [doc["source"]], "k": 3, "mode": "bm25"})
    assert scoped["answer"] == "$16 billion" and scoped["scope"] == [doc["source"]]
    whole = stdio.ok("read", {"source": doc["source"]})
    assert whole["start"] == 0 and whole["end"] == min(whole["length"], 10_000)
    assert stdio.ok("read", {"source": doc["source"], "start": whole["length"]})["text"] == ""


def test_bad_input_is_one_clear_error_and_the_server_keeps_running(stdio):
    source = stdio.ok("list_documents")["documents"][0]["source"]
    assert stdio.error("ask", {"question": "   "}) == "the question is empty"
    assert stdio.error("ask", {"question": JAPAN_Q, "top_k": 2}).startswith("ask: unknown argument 'top_k'")
    assert stdio.error("ask", {"question": JAPAN_Q, "k": "five"}) == "ask: k: 'five' is not of type 'integer'"
    assert stdio.error("ask", {"question": JAPAN_Q, "documents": ["nope.pdf"]}) == \
        "no indexed document matches 'nope.pdf'"
    assert stdio.error("read", {"source": "nope.txt"}).startswith("no indexed document is called 'nope.txt'")
    assert "at most 10000 characters" in stdio.error("read", {"source": source, "start": 0, "end": 10**7})
    assert "past the end" in stdio.error("read", {"source": source, "start": 10**7})
    assert "past the end" in stdio.error("read", {"source": source, "start": 0, "end": 9_999})
    assert stdio.error("read", {"source": source, "start": 5, "end": 4}) == "end 4 is before start 5"
    with pytest.raises(MCPError, match="unknown tool 'upload'"):
        stdio.call("upload", {"name": "x.txt", "text": "x"})  # not offered without --mcp-write
    assert stdio.ok("ask", {"question": JAPAN_Q})["answer"] == "$16 billion"


def test_missing_index_is_an_error_per_call_not_a_dead_server(tmp_path):
    with connected(qa_mcp("--index", tmp_path / "none")) as session:
        assert list(session.tools()) == READ_ONLY
        for _ in range(2):
            assert session.error("ask", {"question": JAPAN_Q}).startswith(f"no index at '{tmp_path / 'none'}'")


def test_http_on_the_chat_server_with_write_tools_and_its_login(tmp_path, embedder):
    from qa import build_index

    docs, index = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(SEEDS, docs)
    build_index(docs, index, embedder=embedder, progress=False)
    with serving("--index", index, "--docs", docs, "--mcp", "--mcp-write", "--auth", "ann:secret") as (url, _):
        with pytest.raises(Exception), connected(url + "mcp"):  # noqa: B017 - the SDK raises a group for a 401
            pass
        login = {"Authorization": "Basic " + base64.b64encode(b"ann:secret").decode()}
        transport = streamable_http_client(url + "mcp", http_client=create_mcp_http_client(headers=login))
        with connected(transport) as http:
            assert list(http.tools()) == [*READ_ONLY, "upload", "remove"]
            assert http.ok("ask", {"question": JAPAN_Q})["answer"] == "$16 billion"
            note = "# Note\n\nThe lighthouse keeper's cat is called Biscuit.\n"
            assert http.ok("upload", {"name": "note.md", "text": note})["added"] == ["note.md"]
            cat = http.ok("ask", {"question": "What is the lighthouse keeper's cat called?", "documents": ["note.md"]})
            assert cat["answer"] == "Biscuit"
            assert http.error("upload", {"name": "x.exe", "text": "x"}).startswith("upload refused: x.exe: unsupported")
            assert http.ok("remove", {"source": "note.md"})["removed"] == ["note.md"]
            assert [d["source"] for d in http.ok("list_documents")["documents"]] == [p.name for p in SEEDS.iterdir()]
            assert not (docs / "note.md").exists()
