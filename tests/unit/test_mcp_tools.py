"""The MCP tools' argument checks: what an assistant may send, and the one-line error for what it may not.
(The tools themselves run against the real model and index in tests/test_mcp.py.)"""

import pytest

from qa.errors import QAError
from qa.mcp.tools import ASK, LIST_DOCUMENTS, READ, check_arguments, tools


def test_read_only_unless_writable():
    assert [t.name for t in tools()] == ["ask", "list_documents", "read"]
    assert [t.name for t in tools(writable=True)] == ["ask", "list_documents", "read", "upload", "remove"]
    assert all(t.schema["additionalProperties"] is False for t in tools(writable=True))


def test_good_arguments_pass_unchanged():
    args = {"question": "Who?", "k": 3, "mode": "bm25", "documents": ["*.pdf"]}
    assert check_arguments(ASK, args) == args
    assert check_arguments(LIST_DOCUMENTS, None) == {}
    assert check_arguments(READ, {"source": "a.txt", "start": 0, "end": 10}) == {"source": "a.txt", "start": 0, "end": 10}


@pytest.mark.parametrize("tool, args, message", [
    (ASK, {"question": "Who?", "top_k": 3},
     "ask: unknown argument 'top_k' (ask takes question, k, mode, documents)"),
    (ASK, {}, "ask: 'question' is a required property"),
    (ASK, {"question": 42}, "ask: question: 42 is not of type 'string'"),
    (ASK, {"question": "Who?", "k": 0}, "ask: k: 0 is less than the minimum of 1"),
    (ASK, {"question": "Who?", "k": True}, "ask: k: True is not of type 'integer'"),
    (ASK, {"question": "Who?", "mode": "fast"}, "ask: mode: 'fast' is not one of ['hybrid', 'dense', 'bm25']"),
    (ASK, {"question": "Who?", "documents": []}, "ask: documents: [] should be non-empty"),
    (LIST_DOCUMENTS, {"x": 1}, "list_documents: unknown argument 'x' (list_documents takes no arguments)"),
    (READ, {"source": "a.txt", "start": -1}, "read: start: -1 is less than the minimum of 0"),
])
def test_bad_arguments_are_one_clear_line(tool, args, message):
    with pytest.raises(QAError) as caught:
        check_arguments(tool, args)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)
