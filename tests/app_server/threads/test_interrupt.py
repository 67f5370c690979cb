"""How a step's calls run: interrupted (model stream and MCP calls cancelled), in parallel or in order."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.app_server.threads.turn_harness import TurnDaemon, elicit_server, turn_daemon

INTERRUPT_BOUND_SEC = 2.0
"""The target is 100 ms; the bound is generous so a loaded CI box does not fail the test."""


def call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"name": f"mcp__el__{tool}", "arguments": arguments}


async def interrupt(turns: TurnDaemon, thread_id: str, turn_id: str) -> None:
    assert await turns.daemon.call("turn/interrupt", {"threadId": thread_id, "turnId": turn_id}) == {}


async def next_ending(turns: TurnDaemon, item_id: str) -> dict[str, Any]:
    """Whichever comes first: `item/completed` for `item_id` or `turn/completed`."""
    message: dict[str, Any] = await turns.daemon.next_message(
        lambda m: (
            (m.get("method") == "item/completed" and m["params"]["item"]["id"] == item_id)
            or m.get("method") == "turn/completed"
        )
    )
    return message


# ---- interrupt ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_interrupt_fails_the_call_in_flight_cancels_it_on_the_server_and_ends_the_turn(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [
        {"tool_calls": [call("hold")]},
        {"tool_calls": [call("cancellations", at_least=1, patience=10)]},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"el": elicit_server()}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        # The progress `hold` reports proves the call is running on the server.
        await turns.daemon.next_notification("item/mcpToolCall/progress")

        began = time.monotonic()
        await interrupt(turns, thread_id, turn_id)
        item = await next_ending(turns, "call_0_0")
        turn = await next_ending(turns, "call_0_0")
        elapsed = time.monotonic() - began

        assert item["method"] == "item/completed"
        assert item["params"]["item"]["status"] == "failed"
        assert item["params"]["item"]["error"] == {"message": "interrupted"}
        assert turn["method"] == "turn/completed"
        assert turn["params"]["turn"]["status"] == "interrupted"
        assert elapsed < INTERRUPT_BOUND_SEC

        # The same server process, asked in the next turn, saw the call cancelled.
        next_turn = await turns.start_turn(thread_id)
        counted = await turns.item_completed("call_1_0")
        assert counted["status"] == "completed", counted
        assert counted["result"]["content"][0]["text"] == "1"
        assert (await turns.turn_completed(next_turn))["status"] == "completed"


@pytest.mark.anyio
async def test_interrupt_while_the_model_is_streaming_drops_the_stream_and_ends_the_turn(home: Path) -> None:
    script: list[dict[str, Any]] = [{"text": "never said", "hold": "before_response"}]
    async with turn_daemon(home, script, {}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        with anyio.fail_after(turns.daemon.max_wait):
            await turns.model.wait_held(0)

        began = time.monotonic()
        await interrupt(turns, thread_id, turn_id)
        turn = await turns.turn_completed(turn_id)
        elapsed = time.monotonic() - began

        assert turn["status"] == "interrupted"
        assert elapsed < INTERRUPT_BOUND_SEC
        with anyio.fail_after(turns.daemon.max_wait):
            await turns.model.wait_disconnected(0)
        assert not [item for item in turn["items"] if item["type"] == "agentMessage"]


# ---- parallel or in order ----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "server_options"),
    [("meet_read", {}), ("meet_write", {"supports_parallel_tool_calls": True})],
    ids=["read-only-tools", "server-supports-parallel-calls"],
)
async def test_calls_of_one_step_run_together_when_they_may(
    home: Path, tool: str, server_options: dict[str, Any]
) -> None:
    # Each call waits for the other: run one after the other, each would meet only itself.
    meeting: dict[str, Any] = {"group": "g", "expect": 2, "patience": 10}
    script: list[dict[str, Any]] = [
        {"tool_calls": [call(tool, **meeting), call(tool, **meeting)]},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"el": elicit_server(**server_options)}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        for call_id in ("call_0_0", "call_0_1"):
            item = await turns.item_completed(call_id)
            assert item["result"]["content"][0]["text"] == "2", item
        assert (await turns.turn_completed(turn_id))["status"] == "completed"


@pytest.mark.anyio
async def test_calls_that_are_not_read_only_run_in_order(home: Path) -> None:
    meeting: dict[str, Any] = {"group": "g", "expect": 2, "patience": 0.3}
    calls = [call("meet_write", **meeting), call("meet_write", **meeting)]
    script: list[dict[str, Any]] = [{"tool_calls": calls}, {"text": "done"}]
    async with turn_daemon(home, script, {"el": elicit_server()}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        first = await turns.daemon.next_message(
            lambda m: (
                m.get("method") in ("item/completed", "item/started")
                and m["params"]["item"]["id"] in ("call_0_0", "call_0_1")
                and (m["method"], m["params"]["item"]["id"]) != ("item/started", "call_0_0")
            )
        )
        assert (first["method"], first["params"]["item"]["id"]) == ("item/completed", "call_0_0")
        assert first["params"]["item"]["result"]["content"][0]["text"] == "1"
        second = await turns.item_completed("call_0_1")
        assert second["result"]["content"][0]["text"] == "2"
        assert (await turns.turn_completed(turn_id))["status"] == "completed"
