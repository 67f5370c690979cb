"""How a step resolves the model's tool calls, through the real daemon and a scripted Responses model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_server.threads.turn_harness import answering_pid, cheap_server, turn_daemon

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("namespace", "name"),
    [("mcp__fix__", "whoami"), ("mcp__fix", "whoami"), ("fix", "whoami"), (None, "mcp__fix__whoami")],
)
async def test_a_call_named_by_namespace_and_name_reaches_the_same_tool_as_its_flat_name(
    home: Path, namespace: str | None, name: str
) -> None:
    script = [{"tool_calls": [{"name": name, "namespace": namespace}]}, {"text": "done"}]
    async with turn_daemon(home, script, {"fix": cheap_server("fix")}) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("fix", thread_id)
        turn_id = await turns.start_turn(thread_id)
        item = await turns.item_completed("call_0_0")
        assert (item["server"], item["tool"]) == ("fix", "whoami")
        (pid,) = turns.server_pids("fix")
        assert answering_pid(item) == pid
        assert (await turns.turn_completed(turn_id))["status"] == "completed"


async def test_a_namespaced_call_to_a_tool_that_does_not_exist_fails_the_call_not_the_turn(
    home: Path,
) -> None:
    script = [{"tool_calls": [{"name": "nothing", "namespace": "mcp__fix__"}]}, {"text": "done"}]
    async with turn_daemon(home, script, {"fix": cheap_server("fix")}) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("fix", thread_id)
        turn_id = await turns.start_turn(thread_id)
        item = await turns.item_completed("call_0_0")
        assert item["status"] == "failed" and "unknown tool" in item["error"]["message"]
        assert (await turns.turn_completed(turn_id))["status"] == "completed"
