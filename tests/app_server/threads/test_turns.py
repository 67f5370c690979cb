"""A turn's identity on the wire: the client's id for its user message, and the chain it belongs to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app_server.threads.turn_harness import TurnDaemon, turn_daemon

pytestmark = pytest.mark.anyio


async def start(turns: TurnDaemon, thread_id: str, **params: Any) -> dict[str, Any]:
    input_ = [{"type": "text", "text": "go", "text_elements": []}]
    result = await turns.daemon.call("turn/start", {"threadId": thread_id, "input": input_, **params})
    turn: dict[str, Any] = result["turn"]
    await turns.turn_completed(turn["id"])
    return turn


async def read_turns(turns: TurnDaemon, thread_id: str) -> list[dict[str, Any]]:
    result = await turns.daemon.call("thread/read", {"threadId": thread_id, "includeTurns": True})
    return list(result["thread"]["turns"])


async def test_the_client_user_message_id_is_the_user_messages_client_id(home: Path) -> None:
    async with turn_daemon(home, [{"text": "one"}, {"text": "two"}], {}) as turns:
        thread_id = await turns.start_thread()
        await start(turns, thread_id, clientUserMessageId="client-msg-1")
        await start(turns, thread_id)
        first, second = await read_turns(turns, thread_id)

    assert first["items"][0]["type"] == "userMessage"
    assert first["items"][0]["clientId"] == "client-msg-1"
    assert second["items"][0]["clientId"] is None


async def test_a_turn_is_its_own_root_unless_the_client_names_one(home: Path) -> None:
    async with turn_daemon(home, [{"text": "one"}, {"text": "two"}], {}) as turns:
        thread_id = await turns.start_thread()
        own = await start(turns, thread_id)
        delegated = await start(turns, thread_id, rootTurnId=own["id"], parentTurnId=own["id"])
        recorded = await read_turns(turns, thread_id)

    assert own["rootTurnId"] == own["id"]
    assert delegated["rootTurnId"] == own["id"]
    assert [turn["rootTurnId"] for turn in recorded] == [own["id"], own["id"]]
