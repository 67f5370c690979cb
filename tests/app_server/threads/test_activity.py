"""A loaded thread's status: computed from what it is doing, announced as `thread/status/changed`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app_server.threads.activity import ThreadActivity
from protocol.notifications import ThreadStatusChangedNotification
from tests.app_server.threads.turn_harness import TurnDaemon, turn_daemon
from tests.support.config import example_server

STATUS = "thread/status/changed"
ACTIVE: dict[str, Any] = {"type": "active", "activeFlags": []}
WAITING: dict[str, Any] = {"type": "active", "activeFlags": ["waitingOnApproval"]}
IDLE = {"type": "idle"}
SYSTEM_ERROR = {"type": "systemError"}


def recorder() -> tuple[list[dict[str, Any]], Any]:
    seen: list[dict[str, Any]] = []

    def publish(notification: ThreadStatusChangedNotification) -> None:
        seen.append(notification.to_wire()["status"])

    return seen, publish


# ---- the status of one thread ----------------------------------------------------------------


@pytest.mark.anyio
async def test_a_turn_is_active_waits_while_the_user_is_asked_and_ends_idle() -> None:
    activity = ThreadActivity("t")
    seen, publish = recorder()

    activity.turn_started(publish)
    async with activity.waiting("waitingOnApproval", publish):
        assert activity.status().to_wire() == WAITING
    activity.turn_ended(publish, failed=False)

    assert seen == [ACTIVE, WAITING, ACTIVE, IDLE]


@pytest.mark.anyio
async def test_each_kind_of_wait_has_its_flag_and_overlapping_waits_of_one_kind_count() -> None:
    activity = ThreadActivity("t")
    seen, publish = recorder()
    activity.turn_started(publish)

    approval, user_input = "waitingOnApproval", "waitingOnUserInput"
    async with activity.waiting(approval, publish), activity.waiting(user_input, publish):
        async with activity.waiting(approval, publish):
            pass
        assert activity.status().to_wire()["activeFlags"] == ["waitingOnApproval", "waitingOnUserInput"]

    both = {"type": "active", "activeFlags": ["waitingOnApproval", "waitingOnUserInput"]}
    # The nested approval wait changes nothing: one approval was already pending.
    assert seen == [ACTIVE, WAITING, both, WAITING, ACTIVE]


def test_a_failed_turn_leaves_the_thread_in_system_error_until_the_next_turn() -> None:
    activity = ThreadActivity("t")
    seen, publish = recorder()

    activity.turn_started(publish)
    activity.turn_ended(publish, failed=True)
    activity.turn_started(publish)
    activity.turn_ended(publish, failed=False)

    assert seen == [ACTIVE, SYSTEM_ERROR, ACTIVE, IDLE]


def test_only_a_change_of_status_is_announced() -> None:
    activity = ThreadActivity("t")
    seen, publish = recorder()

    activity.turn_ended(publish, failed=False)

    assert seen == []
    assert activity.status().to_wire() == IDLE
    assert activity.status(turn_in_progress=True).to_wire() == ACTIVE


# ---- through the daemon ----------------------------------------------------------------------


async def take_statuses(turns: TurnDaemon, thread_id: str, count: int) -> list[dict[str, Any]]:
    """The next `count` status changes of the thread, in the order they were sent."""
    found = []
    for _ in range(count):
        message = await turns.daemon.next_message(
            lambda m: m.get("method") == STATUS and "id" not in m and m["params"]["threadId"] == thread_id
        )
        found.append(message["params"]["status"])
    return found


async def read_status(turns: TurnDaemon, thread_id: str) -> dict[str, Any]:
    read = await turns.daemon.call("thread/read", {"threadId": thread_id})
    listed = await turns.daemon.call("thread/list", {})
    [in_list] = [thread for thread in listed["data"] if thread["id"] == thread_id]
    assert in_list["status"] == read["thread"]["status"]
    return dict(read["thread"]["status"])


@pytest.mark.anyio
async def test_a_turn_with_an_approval_goes_active_waiting_active_idle(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "mcp__demo__write_note", "arguments": {"text": "x", "name": "n"}}]},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"demo": example_server()}) as turns:
        thread_id = await turns.start_thread()
        assert await read_status(turns, thread_id) == IDLE
        turn_id = await turns.start_turn(thread_id)

        request = await turns.daemon.next_server_request("mcpServer/elicitation/request")
        assert await take_statuses(turns, thread_id, 2) == [ACTIVE, WAITING]
        assert await read_status(turns, thread_id) == WAITING
        await turns.daemon.respond(request["id"], {"action": "accept", "content": None})
        await turns.turn_completed(turn_id)

        assert await take_statuses(turns, thread_id, 2) == [ACTIVE, IDLE]
        assert await read_status(turns, thread_id) == IDLE
        assert [m for m in turns.daemon.untaken() if m.get("method") == STATUS] == []


@pytest.mark.anyio
async def test_status_changes_frame_the_turn_notifications(home: Path) -> None:
    async with turn_daemon(home, [{"text": "hi"}], {}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        await turns.turn_completed(turn_id)
        await turns.daemon.call("thread/read", {"threadId": thread_id})  # everything before is in

        order = [
            m["method"]
            for m in turns.daemon.untaken()
            if m.get("method") in {STATUS, "turn/started"} and "id" not in m
        ]
        assert order == [STATUS, "turn/started", STATUS]


@pytest.mark.anyio
async def test_a_failing_turn_puts_the_thread_in_system_error_and_the_next_turn_clears_it(home: Path) -> None:
    script: list[dict[str, Any]] = [
        # The first request fails (not retried); the step is served to the next one.
        {"text": "fine", "failures": [{"error_code": "context_length_exceeded", "message": "too long"}]},
    ]
    async with turn_daemon(home, script, {}) as turns:
        thread_id = await turns.start_thread()
        failed = await turns.start_turn(thread_id)
        assert (await turns.turn_completed(failed))["status"] == "failed"
        assert await take_statuses(turns, thread_id, 2) == [ACTIVE, SYSTEM_ERROR]
        assert await read_status(turns, thread_id) == SYSTEM_ERROR

        second = await turns.start_turn(thread_id)
        assert (await turns.turn_completed(second))["status"] == "completed"
        assert await take_statuses(turns, thread_id, 2) == [ACTIVE, IDLE]
        assert await read_status(turns, thread_id) == IDLE


@pytest.mark.anyio
async def test_a_stored_thread_loaded_by_resume_is_announced_idle_once(home: Path) -> None:
    async with turn_daemon(home, [{"text": "hi"}], {}) as turns:
        thread_id = await turns.start_thread()
    async with turn_daemon(home, [{"text": "hi"}], {}) as turns:
        await turns.daemon.call("thread/resume", {"threadId": thread_id})
        assert await take_statuses(turns, thread_id, 1) == [IDLE]
        await turns.daemon.call("thread/resume", {"threadId": thread_id})  # already loaded: no change
        await turns.daemon.call("thread/read", {"threadId": thread_id})
        assert [m for m in turns.daemon.untaken() if m.get("method") == STATUS] == []


@pytest.mark.anyio
async def test_an_interrupted_turn_stops_waiting_and_ends_idle(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "mcp__demo__write_note", "arguments": {"text": "x", "name": "n"}}]},
    ]
    async with turn_daemon(home, script, {"demo": example_server()}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        await turns.daemon.next_server_request("mcpServer/elicitation/request")
        assert await take_statuses(turns, thread_id, 2) == [ACTIVE, WAITING]

        assert await turns.daemon.call("turn/interrupt", {"threadId": thread_id, "turnId": turn_id}) == {}
        assert (await turns.turn_completed(turn_id))["status"] == "interrupted"

        assert await read_status(turns, thread_id) == IDLE
        rest = [m["params"]["status"] for m in turns.daemon.untaken() if m.get("method") == STATUS]
        assert rest[-1] == IDLE
