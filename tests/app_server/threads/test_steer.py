"""`turn/steer` through the real daemon: steered input joins the running turn, recorded and announced,
and the turn's next model request carries it, even when the model was about to end the turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.model.scripted import RecordedRequest
from tests.app_server.threads.turn_harness import DEFAULT_WAIT, TurnDaemon, cheap_server, turn_daemon

pytestmark = pytest.mark.anyio


def text_input(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "text_elements": []}]


def user_texts(request: RecordedRequest) -> list[str]:
    """The text of every user message a Responses request carried, in order."""
    return [
        part["text"]
        for item in request.body["input"]
        if item.get("role") == "user"
        for part in item["content"]
        if part["type"] == "input_text"
    ]


async def steer(turns: TurnDaemon, thread_id: str, turn_id: str, text: str, **params: Any) -> Any:
    """`turn/steer`'s whole response (result or error)."""
    return await turns.daemon.request(
        "turn/steer",
        {"threadId": thread_id, "expectedTurnId": turn_id, "input": text_input(text), **params},
    )


async def items_of(turns: TurnDaemon, thread_id: str) -> list[dict[str, Any]]:
    result = await turns.daemon.call("thread/read", {"threadId": thread_id, "includeTurns": True})
    return [item for turn in result["thread"]["turns"] for item in turn["items"]]


async def test_steered_input_is_recorded_announced_and_carried_by_the_next_request(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "mcp__cheap__whoami"}], "hold": "before_response"},
        {"text": "done", "hold": "before_response"},
    ]
    async with turn_daemon(home, script, {"cheap": cheap_server("C")}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id, "first")
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.model.wait_held(0)
        response = await steer(turns, thread_id, turn_id, "also this", clientUserMessageId="c-1")
        assert response["result"] == {"turnId": turn_id}
        turns.model.release(0)

        # Recorded durably before the next request is made.
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.model.wait_held(1)
        steered = [item for item in await items_of(turns, thread_id) if item["type"] == "userMessage"][1]
        assert steered["content"] == text_input("also this")
        assert steered["clientId"] == "c-1"
        started = await turns.item_started(steered["id"])
        completed = await turns.item_completed(steered["id"])
        assert started["content"] == completed["content"] == text_input("also this")
        turns.model.release(1)
        turn = await turns.turn_completed(turn_id)

    assert turn["status"] == "completed"
    assert [item["type"] for item in turn["items"]] == [
        "userMessage",
        "mcpToolCall",
        "userMessage",
        "agentMessage",
    ]
    first, second = turns.model.requests
    assert user_texts(first) == ["first"]
    assert user_texts(second) == ["first", "also this"]
    # The steered message follows the tool call's output it came in after.
    kinds = [item.get("type") or item.get("role") for item in second.body["input"]]
    assert kinds.index("function_call_output") < len(kinds) - 1


async def test_input_steered_as_the_model_ends_the_turn_gets_one_more_request(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {"text": "finished?", "hold": "before_response"},
        {"text": "now finished"},
    ]
    async with turn_daemon(home, script, {}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id, "first")
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.model.wait_held(0)
        assert (await steer(turns, thread_id, turn_id, "one more thing"))["result"] == {"turnId": turn_id}
        turns.model.release(0)
        turn = await turns.turn_completed(turn_id)

    assert turn["status"] == "completed"
    texts = [item.get("text") for item in turn["items"] if item["type"] == "agentMessage"]
    assert texts == ["finished?", "now finished"]
    _, second = turns.model.requests
    assert user_texts(second) == ["first", "one more thing"]


async def test_input_steered_into_an_interrupted_turn_stays_in_it_and_the_next_turn_sends_it(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [{"text": "never said", "hold": "before_response"}, {"text": "ok"}]
    async with turn_daemon(home, script, {}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id, "first")
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.model.wait_held(0)
        assert "result" in await steer(turns, thread_id, turn_id, "steered")
        await turns.daemon.call("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
        turn = await turns.turn_completed(turn_id)
        next_turn = await turns.start_turn(thread_id, "next")
        await turns.turn_completed(next_turn)

    assert turn["status"] == "interrupted"
    assert [item["content"] for item in turn["items"]] == [text_input("first"), text_input("steered")]
    assert user_texts(turns.model.requests[-1]) == ["first", "steered", "next"]


async def test_a_steer_of_the_wrong_turn_or_without_a_running_one_is_refused_and_records_nothing(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [{"text": "held", "hold": "before_response"}]
    async with turn_daemon(home, script, {}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.model.wait_held(0)
        wrong = await steer(turns, thread_id, "not-the-turn", "lost?")
        unknown = await steer(turns, "no-such-thread", turn_id, "lost?")
        empty = await turns.daemon.request(
            "turn/steer", {"threadId": thread_id, "expectedTurnId": turn_id, "input": []}
        )
        missing_image = await turns.daemon.request(
            "turn/steer",
            {
                "threadId": thread_id,
                "expectedTurnId": turn_id,
                "input": [{"type": "localImage", "path": "/nowhere/shot.png"}],
            },
        )
        turns.model.release(0)
        await turns.turn_completed(turn_id)
        ended = await steer(turns, thread_id, turn_id, "lost?")
        items = await items_of(turns, thread_id)

    assert wrong["error"]["code"] == unknown["error"]["code"] == ended["error"]["code"] == -32602
    assert wrong["error"]["message"] == (
        f"turn not-the-turn is not the running turn of thread {thread_id} (that is {turn_id})"
    )
    assert unknown["error"]["message"] == "thread not loaded: no-such-thread"
    assert ended["error"]["message"] == f"no turn is running in thread {thread_id}"
    assert empty["error"] == {"code": -32602, "message": "input must not be empty"}
    assert missing_image["error"]["message"] == "local image `/nowhere/shot.png` does not exist"
    assert [item["type"] for item in items] == ["userMessage", "agentMessage"]
    assert len(turns.model.requests) == 1
