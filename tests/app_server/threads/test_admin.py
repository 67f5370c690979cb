"""Thread management: loaded-id pages and their cursors, names, and how archiving meets turns
(through the real daemon)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app_server.errors import InvalidParams
from app_server.threads.admin import MAX_NAME_CHARS, loaded_page, valid_name
from app_server.threads.ids import new_id
from tests.app_server.threads.turn_harness import cheap_server, elicit_server, turn_daemon
from tests.support.config import MODEL_KEY_ENV
from tests.support.daemon import Daemon

INVALID_PARAMS = -32602


def test_loaded_pages_walk_every_id_once_in_id_order() -> None:
    ids = [new_id() for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        chosen, cursor = loaded_page(list(reversed(ids)), cursor, 2)
        seen += chosen
        if cursor is None:
            break
    assert seen == sorted(ids)


def test_a_loaded_page_survives_the_thread_it_ended_on_unloading() -> None:
    ids = sorted(new_id() for _ in range(3))
    first, cursor = loaded_page(ids, None, 1)
    rest, _ = loaded_page([i for i in ids if i not in first], cursor, None)
    assert rest == ids[1:]


def test_no_limit_serves_every_id_and_zero_serves_one() -> None:
    ids = [new_id() for _ in range(3)]
    assert loaded_page(ids, None, None) == (sorted(ids), None)
    assert len(loaded_page(ids, None, 0)[0]) == 1


@pytest.mark.parametrize("cursor", ["", "%%%", "Li4vZXRj"])
def test_a_cursor_not_issued_here_is_invalid_params(cursor: str) -> None:
    with pytest.raises(InvalidParams, match="invalid cursor"):
        loaded_page([new_id()], cursor, None)


def test_names_are_trimmed_and_blank_or_overlong_ones_refused() -> None:
    assert valid_name("  My thread \n") == "My thread"
    with pytest.raises(InvalidParams, match="empty"):
        valid_name(" \t")
    with pytest.raises(InvalidParams, match=str(MAX_NAME_CHARS)):
        valid_name("x" * (MAX_NAME_CHARS + 1))


@pytest.mark.anyio
async def test_an_archived_thread_runs_no_turn_until_unarchived_and_a_running_one_is_not_archived(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "mcp__el__hold", "arguments": {}}]},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"el": elicit_server()}) as turns:
        daemon = turns.daemon
        thread_id = await turns.start_thread()
        running = await turns.start_turn(thread_id)
        await daemon.next_notification("item/mcpToolCall/progress")
        busy = await daemon.request("thread/archive", {"threadId": thread_id})
        assert busy["error"]["code"] == INVALID_PARAMS and "interrupt it first" in busy["error"]["message"]
        await daemon.call("turn/interrupt", {"threadId": thread_id, "turnId": running})
        assert (await turns.turn_completed(running))["status"] == "interrupted"

        await daemon.call("thread/archive", {"threadId": thread_id})
        refused = await daemon.request("turn/start", {"threadId": thread_id, "input": []})
        assert refused["error"]["code"] == INVALID_PARAMS and "archived" in refused["error"]["message"]

        await daemon.call("thread/unarchive", {"threadId": thread_id})
        turn_id = await turns.start_turn(thread_id)
        assert (await turns.turn_completed(turn_id))["status"] == "completed"


@pytest.mark.anyio
async def test_a_stored_archived_thread_is_refused_a_turn_without_being_loaded(home: Path) -> None:
    async with turn_daemon(home, [{"text": "one"}], {"cheap": cheap_server("C")}) as turns:
        thread_id = await turns.start_thread()
        await turns.daemon.call("thread/archive", {"threadId": thread_id})
        turns.daemon.process.kill()
        await turns.daemon.wait_exit()
        journal = home / "threads" / f"{thread_id}.jsonl"
        before = journal.read_bytes()

        async with Daemon.start(home, env={MODEL_KEY_ENV: "scripted"}) as restarted:
            await restarted.initialize()
            refused = await restarted.request(
                "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "go"}]}
            )
            assert refused["error"]["code"] == INVALID_PARAMS and "archived" in refused["error"]["message"]
            assert (await restarted.call("thread/loaded/list", {}))["data"] == []
            assert not any(m.get("params", {}).get("threadId") == thread_id for m in restarted.untaken())
        assert journal.read_bytes() == before
