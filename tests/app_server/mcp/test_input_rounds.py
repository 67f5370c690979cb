"""Connections in the SDK's automatic mode: a server of the stateless 2026-07-28 era (over stdio and
streamable HTTP) asks for input in rounds, each question going to exactly the call that asked, and
announces list changes on a subscription; a handshake-era server is still reached by the fallback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.server.mcpserver import MCPServer

from app_server.config.servers import HttpServerConfig, StdioServerConfig
from app_server.errors import RequestFailed
from app_server.mcp.catalog import WireDict
from app_server.mcp.client import RuntimeContext
from app_server.mcp.runtime import McpRuntime
from protocol.server_requests import McpServerElicitationRequestParams
from tests.app_server.mcp.conftest import Running, modern_config, stdio_config
from tests.fixtures.asgi import serve_asgi
from tests.fixtures.mcp_servers.eras import http_app
from tests.fixtures.mcp_servers.fixture_server import build_server as build_fixture_server
from tests.fixtures.mcp_servers.modern_server import build_server

pytestmark = pytest.mark.anyio

WAIT = 30.0
MODERN = "2026-07-28"


Config = StdioServerConfig | HttpServerConfig
TRANSPORTS = ["stdio", "http"]


@contextlib.asynccontextmanager
async def in_2026_era(
    transport: str, stdio: StdioServerConfig, build: Callable[[], MCPServer]
) -> AsyncIterator[Config]:
    """`stdio`, or the server `build` makes served in the 2026 era over streamable HTTP on 127.0.0.1."""
    if transport == "stdio":
        yield stdio
        return
    async with serve_asgi(lambda _base_url: http_app(build(), "modern")) as base_url:
        yield HttpServerConfig(url=f"{base_url}/mcp")


@pytest.fixture(params=TRANSPORTS)
async def modern(request: pytest.FixtureRequest) -> AsyncIterator[Config]:
    """The 2026-only fixture server (it asks in input rounds, announces changes on a subscription)."""
    async with in_2026_era(request.param, modern_config(), lambda: build_server("web")) as config:
        yield config


@pytest.fixture(params=TRANSPORTS)
async def fixture_2026(request: pytest.FixtureRequest) -> AsyncIterator[Config]:
    """The handshake-era tests' fixture server, pinned to the 2026 era (its `progress` tool)."""
    stdio = stdio_config("p", "--era", "modern")
    async with in_2026_era(request.param, stdio, lambda: build_fixture_server("p")) as config:
        yield config


def answering(name: str, asked: list[WireDict]) -> Callable[[McpServerElicitationRequestParams], Any]:
    """An `ask` that notes each question and accepts it with `name`."""

    async def ask(params: McpServerElicitationRequestParams) -> dict[str, Any]:
        asked.append(params.model_dump(by_alias=True, exclude_none=True))
        return {"action": "accept", "content": {"name": name}}

    return ask


def text(result: WireDict) -> str:
    value: str = result["content"][0]["text"]
    return value


async def test_a_2026_server_is_spoken_to_in_its_era_names_itself_and_its_question_reaches_the_caller(
    modern: Config, running: Running
) -> None:
    cell = running.manager.open_cell({"m": modern}, RuntimeContext())
    asked: list[WireDict] = []
    with anyio.fail_after(WAIT), cell.lease() as runtime:
        result = await runtime.call_tool("m", "ask_name", ask=answering("Ada", asked))
        connection = runtime.connection("m")
        assert connection.protocol_version == MODERN
        assert connection.server_info is not None and connection.server_info["version"] == "2.0.0"

    assert text(result) == "accept:Ada"
    assert [(question["serverName"], question["mode"], question["message"]) for question in asked] == [
        ("m", "form", "What is your name?")
    ]


async def test_each_round_of_a_call_asks_its_caller_with_the_previous_answer_carried(
    running: Running,
) -> None:
    cell = running.manager.open_cell({"m": modern_config()}, RuntimeContext())
    asked: list[WireDict] = []
    with anyio.fail_after(WAIT), cell.lease() as runtime:
        result = await runtime.call_tool("m", "ask_twice", ask=answering("Lovelace", asked))

    assert [question["message"] for question in asked] == ["First name?", "Last name of accept:Lovelace?"]
    assert text(result) == "accept:Lovelace accept:Lovelace"


async def test_concurrent_calls_questions_each_reach_the_call_that_asked(running: Running) -> None:
    """Both questions are open at once; the handshake era's rule (the latest call) would send both
    to the second caller."""
    cell = running.manager.open_cell({"m": modern_config()}, RuntimeContext())
    asked: dict[str, list[WireDict]] = {"first": [], "second": []}
    results: dict[str, str] = {}

    async def call(who: str, runtime: McpRuntime) -> None:
        arguments = {"who": who, "group": "g", "expect": 2, "patience": WAIT}
        results[who] = text(
            await runtime.call_tool("m", "ask_together", arguments, ask=answering(who, asked[who]))
        )

    with anyio.fail_after(WAIT), cell.lease() as runtime:
        await runtime.connection("m").wait_settled()
        async with anyio.create_task_group() as group:
            group.start_soon(call, "first", runtime)
            await anyio.wait_all_tasks_blocked()
            group.start_soon(call, "second", runtime)

    assert [question["message"] for question in asked["first"]] == ["Name of first?"]
    assert [question["message"] for question in asked["second"]] == ["Name of second?"]
    assert results == {"first": "accept:first", "second": "accept:second"}


async def test_a_call_that_cannot_ask_has_its_input_request_declined(running: Running) -> None:
    cell = running.manager.open_cell({"m": modern_config()}, RuntimeContext())
    with anyio.fail_after(WAIT), cell.lease() as runtime:
        result = await runtime.call_tool("m", "ask_name")
    assert text(result) == "decline:None"


async def test_a_server_that_never_stops_asking_has_the_call_given_up(running: Running) -> None:
    cell = running.manager.open_cell({"m": modern_config()}, RuntimeContext())
    with anyio.fail_after(WAIT), cell.lease() as runtime, pytest.raises(RequestFailed) as caught:
        await runtime.call_tool("m", "ask_forever")
    assert caught.value.message == (
        "MCP server `m` kept asking for input on tool `ask_forever`: the call was given up"
    )


async def test_an_input_request_for_the_roots_is_answered_with_the_working_directory(
    running: Running, tmp_path: Path
) -> None:
    cell = running.manager.open_cell({"m": modern_config()}, RuntimeContext(cwd=tmp_path))
    with anyio.fail_after(WAIT), cell.lease() as runtime:
        result = await runtime.call_tool("m", "my_roots")
    assert text(result) == tmp_path.as_uri()


async def test_a_change_announced_on_the_subscription_is_relisted_into_the_next_generation(
    modern: Config, running: Running
) -> None:
    cell = running.manager.open_cell({"m": modern}, RuntimeContext())
    with anyio.fail_after(WAIT):
        with cell.lease() as first:
            await first.wait_started()
            await first.call_tool("m", "add_tool", {"name": "fresh"})
            while cell.current is first:
                await cell.changed.wait()
        assert cell.current.tool_index()["mcp__m__fresh"].tool == "fresh"


async def test_a_calls_progress_reaches_its_caller(fixture_2026: Config, running: Running) -> None:
    cell = running.manager.open_cell({"m": fixture_2026}, RuntimeContext())
    seen: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message))

    with anyio.fail_after(WAIT), cell.lease() as runtime:
        result = await runtime.call_tool("m", "progress", {"steps": 2}, progress=on_progress)
        assert runtime.connection("m").protocol_version == MODERN
    assert text(result) == "done"
    assert seen == [(1, "step 1"), (2, "step 2")]


async def test_a_handshake_era_server_is_reached_by_the_fallback_from_the_probe(running: Running) -> None:
    cell = running.manager.open_cell({"a": stdio_config("a")}, RuntimeContext())
    with anyio.fail_after(WAIT), cell.lease() as runtime:
        await runtime.wait_started()
        connection = runtime.connection("a")
    assert connection.state == "ready"
    assert connection.protocol_version == "2025-11-25"
