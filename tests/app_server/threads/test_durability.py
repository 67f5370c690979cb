"""A daemon killed mid-turn loses nothing it announced: after a restart `thread/read` shows every item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from protocol.items import ThreadItem
from tests.app_server.threads.turn_harness import elicit_server, turn_daemon
from tests.support.config import MODEL_KEY_ENV
from tests.support.daemon import Daemon

WIRE_ITEM: TypeAdapter[Any] = TypeAdapter(ThreadItem)


def as_wire(item: dict[str, Any]) -> Any:
    """The item as the protocol's ThreadItem renders it (notifications may carry extra fields)."""
    return WIRE_ITEM.dump_python(WIRE_ITEM.validate_python(item), mode="json", by_alias=True)


@pytest.mark.anyio
async def test_items_announced_before_a_kill_are_all_read_back_after_a_restart(home: Path) -> None:
    el = elicit_server()
    meet = {"name": "mcp__el__meet_read", "arguments": {"group": "alone", "expect": 1, "patience": 1}}
    script: list[dict[str, Any]] = [
        {"tool_calls": [meet]},
        # The answer's first words are streamed, then the stream stalls: its item is started only.
        {"text": "half an answer", "hold": "after_first_output"},
    ]
    announced: dict[str, dict[str, Any]] = {}
    completed: set[str] = set()
    async with turn_daemon(home, script, {"el": el}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        while True:
            message = await turns.daemon.next_message(
                lambda m: m.get("method") in ("item/started", "item/completed")
            )
            item = message["params"]["item"]
            announced[item["id"]] = item
            if message["method"] == "item/completed":
                completed.add(item["id"])
            if item["type"] == "agentMessage":
                break
        turns.daemon.process.kill()
        await turns.daemon.wait_exit()

        async with Daemon.start(home, env={MODEL_KEY_ENV: "scripted"}) as restarted:
            await restarted.initialize()
            result = await restarted.call("thread/read", {"threadId": thread_id, "includeTurns": True})

    [turn] = result["thread"]["turns"]
    assert turn["id"] == turn_id
    assert turn["status"] == "interrupted"
    kinds = [item["type"] for item in announced.values()]
    assert kinds == ["userMessage", "mcpToolCall", "agentMessage"]
    assert completed == {item_id for item_id, item in announced.items() if item["type"] != "agentMessage"}
    read_back = {item["id"]: as_wire(item) for item in turn["items"]}
    assert read_back == {item_id: as_wire(item) for item_id, item in announced.items()}
    assert read_back["call_0_0"]["status"] == "completed"
