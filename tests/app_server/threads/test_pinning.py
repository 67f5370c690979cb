"""Per-step MCP runtime pinning, through the real stdio daemon: a step keeps the runtime it leased.

Each step leases its thread's runtime once; a reload during the step publishes a new generation
that only the next step sees, and a retired generation's servers stop as soon as nothing leases it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.app_server.threads.turn_harness import (
    DEFAULT_WAIT,
    TurnDaemon,
    answered_by,
    answering_pid,
    cheap_server,
    fixture_server,
    http_fixture,
    http_server,
    turn_daemon,
)
from tests.support.processes import alive, wait_gone

pytestmark = pytest.mark.anyio


def call(server: str, tool: str, **arguments: Any) -> dict[str, Any]:
    """A scripted model tool call of `tool` on `server`."""
    return {"name": f"mcp__{server}__{tool}", "arguments": arguments}


def advertised(turns: TurnDaemon, step: int) -> set[str]:
    """The tool names the daemon advertised to the model in step `step`."""
    (request,) = [request for request in turns.model.requests if request.step == step]
    return set(request.tool_names)


async def held(turns: TurnDaemon, step: int) -> None:
    """Wait until the daemon's request for step `step` is held by the scripted model."""
    with anyio.fail_after(DEFAULT_WAIT):
        await turns.model.wait_held(step)


def one_pid(turns: TurnDaemon, label: str) -> int:
    (pid,) = turns.server_pids(label)
    return pid


async def test_a_reload_while_the_answer_is_held_leaves_the_step_on_the_runtime_it_leased(home: Path) -> None:
    script = [
        {"tool_calls": [call("fix", "whoami"), call("gone", "whoami")], "hold": "before_response"},
        {"tool_calls": [call("fix", "whoami"), call("added", "whoami")], "hold": "before_response"},
        {"text": "done"},
    ]
    servers = {"fix": fixture_server("A"), "gone": cheap_server("G")}
    async with turn_daemon(home, script, servers) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        await held(turns, 0)
        old_fix, old_gone = one_pid(turns, "A"), one_pid(turns, "G")

        turns.configure({"fix": fixture_server("B"), "added": cheap_server("N")})
        await turns.reload()
        assert alive(old_fix) and alive(old_gone), "the held step's servers stopped before it ended"
        turns.model.release(0)

        assert answered_by(await turns.item_completed("call_0_0")) == ("A", old_fix)
        assert answering_pid(await turns.item_completed("call_0_1")) == old_gone
        await held(turns, 1)
        # Step 0 released its lease before step 1 asked the model: the old processes go now,
        # while the turn is still running.
        await wait_gone({old_fix, old_gone})
        assert {"mcp__fix__whoami", "mcp__gone__whoami"} <= advertised(turns, 0)
        assert not any(name.startswith("mcp__added__") for name in advertised(turns, 0))
        assert {"mcp__fix__whoami", "mcp__added__whoami"} <= advertised(turns, 1)
        assert not any(name.startswith("mcp__gone__") for name in advertised(turns, 1))
        turns.model.release(1)

        assert answered_by(await turns.item_completed("call_1_0")) == ("B", one_pid(turns, "B"))
        assert answering_pid(await turns.item_completed("call_1_1")) == one_pid(turns, "N")
        assert (await turns.turn_completed(turn_id))["status"] == "completed"
        recorded = await turns.read_items(thread_id)
        assert answered_by(recorded["call_0_0"]) == ("A", old_fix)
        assert answering_pid(recorded["call_0_1"]) == old_gone
        assert answered_by(recorded["call_1_0"]).label == "B"


async def test_a_reload_during_a_running_call_keeps_that_call_and_the_next_on_the_old_runtime(
    home: Path,
) -> None:
    script = [
        {"tool_calls": [call("fix", "block", key="k"), call("fix", "whoami")]},
        {"tool_calls": [call("fix", "whoami")]},
        {"text": "done"},
    ]
    async with (
        http_fixture("A") as server_a,
        http_fixture("B") as server_b,
        turn_daemon(home, script, {"fix": http_server(server_a.url)}) as turns,
    ):
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        await turns.item_started("call_0_0")

        turns.configure({"fix": http_server(server_b.url)})
        await turns.reload()
        # Only server A is released: had the call moved to B, it would never answer.
        await server_a.release("k")

        blocked = await turns.item_completed("call_0_0")
        assert blocked["status"] == "completed", blocked
        assert blocked["result"]["content"][0]["text"] == "released k"
        assert answered_by(await turns.item_completed("call_0_1")).label == "A"
        assert answered_by(await turns.item_completed("call_1_0")).label == "B"
        assert (await turns.turn_completed(turn_id))["status"] == "completed"


async def test_two_reloads_during_one_step_close_the_middle_generation_at_once(home: Path) -> None:
    script = [
        {"tool_calls": [call("fix", "whoami")], "hold": "before_response"},
        {"tool_calls": [call("fix", "whoami")], "hold": "before_response"},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"fix": cheap_server("A")}) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("fix", thread_id)
        turn_id = await turns.start_turn(thread_id)
        await held(turns, 0)
        leased = one_pid(turns, "A")

        turns.configure({"fix": cheap_server("B")})
        await turns.reload()
        await turns.server_ready("fix", thread_id)
        middle = one_pid(turns, "B")
        turns.configure({"fix": cheap_server("C")})
        await turns.reload()

        # B was never leased: it stops without waiting for the step; A serves the step to its end.
        await wait_gone({middle})
        assert alive(leased)
        turns.model.release(0)
        assert answering_pid(await turns.item_completed("call_0_0")) == leased

        await held(turns, 1)
        await wait_gone({leased})
        turns.model.release(1)
        assert answering_pid(await turns.item_completed("call_1_0")) == one_pid(turns, "C")
        assert (await turns.turn_completed(turn_id))["status"] == "completed"
