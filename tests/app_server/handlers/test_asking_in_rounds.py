"""A 2026-07-28 server's questions, which come back as the result of the call itself (input rounds),
reach the client whose call asked, in a direct `mcpServer/tool/call` and in a turn (real daemon over
stdio; the 2026-only fixture server over stdio and over streamable HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from tests.app_server.threads.turn_harness import TurnDaemon, http_server, turn_daemon
from tests.fixtures.asgi import serve_asgi
from tests.fixtures.mcp_servers.eras import http_app
from tests.fixtures.mcp_servers.modern_server import build_server
from tests.support.config import APPROVE, modern_server

pytestmark = pytest.mark.anyio

ELICITATION = "mcpServer/elicitation/request"
ACCEPT_ADA = {"action": "accept", "content": {"name": "Ada"}, "_meta": None}
SCRIPT: list[dict[str, Any]] = [{"tool_calls": [{"name": "mcp__m__ask_name"}]}, {"text": "done"}]


@pytest.fixture(scope="module")
async def turns(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TurnDaemon]:
    async with serve_asgi(lambda _base_url: http_app(build_server("web"), "modern")) as base_url:
        servers = {"m": modern_server(**APPROVE), "web": http_server(f"{base_url}/mcp")}
        async with turn_daemon(tmp_path_factory.mktemp("home"), SCRIPT, servers) as running:
            yield running


@pytest.mark.parametrize("server", ["m", "web"])
async def test_a_direct_calls_input_request_reaches_its_client_and_the_answer_ends_the_call(
    turns: TurnDaemon, server: str
) -> None:
    daemon = turns.daemon
    response: dict[str, Any] = {}

    async def call() -> None:
        response.update(await daemon.request("mcpServer/tool/call", {"server": server, "tool": "ask_name"}))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            group.start_soon(call)
            question: dict[str, Any] = await daemon.next_server_request(ELICITATION)
            await daemon.respond(question["id"], ACCEPT_ADA)

    params = question["params"]
    assert (params["serverName"], params["mode"], params["message"]) == (server, "form", "What is your name?")
    assert "threadId" not in params and params["turnId"] is None
    assert response["result"]["structuredContent"] == {"result": "accept:Ada"}


async def test_a_turns_input_request_carries_its_thread_and_turn(turns: TurnDaemon) -> None:
    with anyio.fail_after(60):
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        question: dict[str, Any] = await turns.daemon.next_server_request(ELICITATION)
        await turns.daemon.respond(question["id"], ACCEPT_ADA)
        item = await turns.item_completed("call_0_0")
        completed = await turns.turn_completed(turn_id)

    assert (question["params"]["threadId"], question["params"]["turnId"]) == (thread_id, turn_id)
    assert question["params"]["serverName"] == "m"
    assert item["status"] == "completed", item
    assert item["result"]["structuredContent"] == {"result": "accept:Ada"}
    assert completed["status"] == "completed"
