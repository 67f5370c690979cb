"""Remembered tool approvals through the daemon: "allow for this session" per thread, "always" saved."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.app_server.threads.test_approvals import answer, elicitation_for, write_note_step
from tests.app_server.threads.turn_harness import TurnDaemon, turn_daemon
from tests.support.config import example_server

pytestmark = pytest.mark.anyio

ELICITATION = "mcpServer/elicitation/request"


def accepted(persist: str) -> dict[str, Any]:
    return {"action": "accept", "content": None, "_meta": {"persist": persist}}


async def run_unasked(turns: TurnDaemon, thread_id: str, call_id: str) -> None:
    """A turn whose write_note call completes without an approval request (one would hold the turn
    until the wait gives up)."""
    turn_id = await turns.start_turn(thread_id)
    assert (await turns.item_completed(call_id))["status"] == "completed"
    assert (await turns.turn_completed(turn_id))["status"] == "completed"
    assert not [m for m in turns.daemon.untaken() if m.get("method") == ELICITATION]


async def demo_pid(turns: TurnDaemon, thread_id: str) -> int:
    result = await turns.daemon.call("mcpServerStatus/list", {"threadId": thread_id})
    (entry,) = [entry for entry in result["data"] if entry["name"] == "demo"]
    return int(entry["process"]["pid"])


async def test_allow_for_this_session_approves_later_calls_of_that_tool_in_that_thread_only(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = []
    for text in ("a", "b", "c"):
        script += [write_note_step(text=text), {"text": "done"}]
    async with turn_daemon(home, script, {"demo": example_server()}) as turns:
        first, second = await turns.start_thread(), await turns.start_thread()
        turn_id = await turns.start_turn(first)
        await answer(turns, await elicitation_for(turns, first), accepted("session"))
        assert (await turns.item_completed("call_0_0"))["status"] == "completed"
        await turns.turn_completed(turn_id)

        await run_unasked(turns, first, "call_2_0")

        turn_id = await turns.start_turn(second)
        request = await elicitation_for(turns, second)
        assert request["params"]["_meta"]["persist"] == ["session", "always"]
        await answer(turns, request, {"action": "decline", "content": None})
        assert (await turns.item_completed("call_4_0"))["status"] == "failed"
        await turns.turn_completed(turn_id)
        assert "tools" not in tomllib.loads((home / "config.toml").read_text())["mcp_servers"]["demo"]


async def test_always_allow_saves_the_approval_and_no_thread_asks_again_with_the_same_server_process(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = []
    for text in ("a", "b", "c"):
        script += [write_note_step(text=text), {"text": "done"}]
    async with turn_daemon(home, script, {"demo": example_server()}) as turns:
        config = home / "config.toml"
        config.write_text("# My own settings: kept.\n" + config.read_text())
        first, second = await turns.start_thread(), await turns.start_thread()
        await turns.server_ready("demo", first)
        pid = await demo_pid(turns, first)

        turn_id = await turns.start_turn(first)
        await answer(turns, await elicitation_for(turns, first), accepted("always"))
        assert (await turns.item_completed("call_0_0"))["status"] == "completed"
        await turns.turn_completed(turn_id)
        text = config.read_text()
        assert text.startswith("# My own settings: kept.\n")
        assert text.endswith('\n\n[mcp_servers.demo.tools.write_note]\napproval_mode = "approve"\n')
        assert tomllib.loads(text)["mcp_servers"]["demo"]["tools"] == {
            "write_note": {"approval_mode": "approve"}
        }

        await run_unasked(turns, second, "call_2_0")
        third = await turns.start_thread()
        await run_unasked(turns, third, "call_4_0")
        assert await demo_pid(turns, first) == pid
        assert await demo_pid(turns, third) == pid
