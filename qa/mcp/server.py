"""The tools of ``qa.mcp.tools`` on the wire, with the official ``mcp`` SDK: over stdio (``qa mcp``) or
streamable HTTP at ``/mcp`` inside the chat server (``qa serve --mcp``).

The SDK's low-level ``Server`` is used rather than its decorator API so that each tool's JSON Schema is
exactly the one written in ``qa.mcp.tools`` (unknown arguments refused, bounds stated) and every failure
the caller can fix comes back as one line of text in an ``isError`` result, which the assistant reads and
can act on. Tools run in worker threads: asking is CPU-bound and must not stall the protocol.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from mcp import types
from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from qa import __version__
from qa.errors import QAError
from qa.mcp.tools import Tool, call, tools

if TYPE_CHECKING:
    from ui.service import Service

log = logging.getLogger("qa.mcp")

HTTP_PATH = "/mcp"
INSTRUCTIONS = (
    "Answers from the user's own documents. 'ask' returns a verbatim quote ('answer') with its document and "
    "character offsets, or answer null when the documents do not say: then tell the user so instead of "
    "answering from general knowledge. 'read' returns the exact text at a citation's offsets."
)


def _describe(tool: Tool) -> types.Tool:
    hints = types.ToolAnnotations(title=tool.title, read_only_hint=not tool.writes, destructive_hint=tool.writes,
                                  idempotent_hint=True, open_world_hint=False)
    return types.Tool(name=tool.name, title=tool.title, description=tool.description, input_schema=tool.schema,
                      annotations=hints)


def _result(value: dict) -> types.CallToolResult:
    text = json.dumps(value, ensure_ascii=False)
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=value)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def build_server(service: Callable[[], Service], *, writable: bool = False) -> Server:
    """An MCP server offering the tools over whatever ``service()`` returns (it may block while the model
    loads, and raise ``QAError``, e.g. while there is no index; it is called in a worker thread)."""
    offered = {t.name: t for t in tools(writable)}

    async def list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_describe(t) for t in offered.values()])

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = offered.get(params.name)
        if tool is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool '{params.name[:100]}'; "
                           f"this server has {', '.join(offered)}")
        try:
            value = await anyio.to_thread.run_sync(lambda: call(tool, service, params.arguments))
        except QAError as exc:
            log.info("%s call refused: %s", tool.name, exc)
            return _error(" ".join(str(exc).split()))
        except Exception as exc:
            log.exception("%s failed", tool.name)
            return _error(f"{tool.name} failed unexpectedly ({type(exc).__name__}); the server's log has the details")
        return _result(value)

    return Server("qa", version=__version__, title="qa: answers from your documents", instructions=INSTRUCTIONS,
                  on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(server: Server, on_ready: Callable[[], None] | None = None) -> None:
    """Serve one client over stdin/stdout until it closes. ``on_ready`` runs once the SDK has taken over
    the standard streams (it sends stray prints to stderr), e.g. to start loading the model."""
    async with stdio_server() as (read, write):
        if on_ready is not None:
            on_ready()
        await server.run(read, write, server.create_initialization_options())


class _BasicAuth:
    """The chat's ``--auth USER:PASSWORD``, asked of MCP clients as HTTP Basic (they cannot sign in to a page)."""

    def __init__(self, app, user: str, password: str) -> None:
        self.app = app
        self.expected = ("Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()).encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                from starlette.responses import PlainTextResponse

                refusal = PlainTextResponse("login required (HTTP Basic, the --auth of qa serve)", status_code=401,
                                            headers={"WWW-Authenticate": 'Basic realm="qa"'})
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_app_kwargs(server: Server, *, host: str, auth: tuple[str, str] | None) -> dict:
    """FastAPI constructor arguments (``routes``, ``lifespan``) that serve ``server`` at ``/mcp`` of the
    chat's own app (Gradio's ``launch(app_kwargs=...)``): the SDK's streamable-HTTP endpoint, its DNS
    rebinding protection on loopback, and HTTP Basic when the chat has a login."""
    from starlette.routing import Route

    app = server.streamable_http_app(streamable_http_path=HTTP_PATH, host=host)
    endpoint = _BasicAuth(app, *auth) if auth else app

    @contextlib.asynccontextmanager
    async def lifespan(_app) -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return {"routes": [Route(HTTP_PATH, endpoint=endpoint)], "lifespan": lifespan}
