"""A catalog over the threshold is offered through a tool search, through the real daemon with a
scripted Responses model that records each request and a server listing 500 more tools."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from app_server.threads.tool_search import TOOL_SEARCH
from tests.app_server.threads.turn_harness import DEFAULT_WAIT, content_server, turn_daemon

pytestmark = pytest.mark.anyio

FOUND = "mcp__content__tool_0008"


async def test_a_large_catalog_is_searched_and_the_tools_found_are_offered_from_the_next_step(
    home: Path,
) -> None:
    script = [
        {"tool_calls": [{"name": TOOL_SEARCH, "arguments": {"query": "weather variant 8", "limit": 3}}]},
        {"tool_calls": [{"name": FOUND}]},
        {"text": "done"},
    ]
    servers = {"content": content_server("--extra-tools", "500")}
    async with turn_daemon(home, script, servers) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("content", thread_id)
        turn_id = await turns.start_turn(thread_id)
        with anyio.fail_after(DEFAULT_WAIT):
            turn = await turns.turn_completed(turn_id)
        items = await turns.read_items(thread_id)
    assert turn["status"] == "completed", turn
    first, second, third = turns.model.requests
    assert first.tool_names == [TOOL_SEARCH]
    assert "among the 508 available" in first.body["tools"][0]["description"]
    assert second.tool_names[0] == TOOL_SEARCH and FOUND in second.tool_names
    assert len(second.tool_names) == 4
    (search_output,) = [
        item["output"] for item in second.body["input"] if item["type"] == "function_call_output"
    ]
    assert f"- {FOUND}: Look up weather records, variant 8." in search_output
    assert items["call_0_0"]["type"] == "dynamicToolCall" and items["call_0_0"]["status"] == "completed"
    assert items["call_1_0"]["status"] == "completed"
    assert items["call_1_0"]["result"]["content"][0]["text"] == "tool 8"
    assert FOUND in third.tool_names
    assert len(json.dumps(first.body)) < 5_000


async def test_a_catalog_within_the_threshold_is_advertised_whole(home: Path) -> None:
    script = [{"text": "done"}]
    servers = {"content": content_server("--extra-tools", "500")}
    async with turn_daemon(home, script, servers, tool_search_threshold=1_000) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("content", thread_id)
        turn_id = await turns.start_turn(thread_id)
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.turn_completed(turn_id)
    (request,) = turns.model.requests
    assert len(request.tool_names) == 508 and TOOL_SEARCH not in request.tool_names


async def test_a_search_runs_over_its_own_step_s_runtime_and_a_tool_gone_since_is_not_offered(
    home: Path,
) -> None:
    script = [
        {
            "tool_calls": [{"name": TOOL_SEARCH, "arguments": {"query": "weather variant 8"}}],
            "hold": "before_response",
        },
        {"text": "done"},
    ]
    extra = ("--extra-tools", "500")
    async with turn_daemon(home, script, {"content": content_server(*extra)}) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("content", thread_id)
        turn_id = await turns.start_turn(thread_id)
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.model.wait_held(0)
        # The held step keeps the runtime it leased; the reload swaps `content` for `other`.
        turns.configure({"other": content_server(*extra)})
        await turns.reload()
        turns.model.release(0)
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.turn_completed(turn_id)
        items = await turns.read_items(thread_id)
    answer = items["call_0_0"]["contentItems"][0]["text"]
    assert f"- {FOUND}:" in answer and "mcp__other__" not in answer
    assert turns.model.requests[1].tool_names == [TOOL_SEARCH]
