"""A resumed thread shows the model what it saw the first time, through two real daemons in turn
on one home, each with a scripted Responses model that records each request."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.app_server.threads.turn_harness import DEFAULT_WAIT, content_server, turn_daemon

pytestmark = pytest.mark.anyio


async def test_a_resumed_thread_sends_the_same_inputs_images_and_caps_included(home: Path) -> None:
    picture = home / "work" / "shot.png"
    picture.parent.mkdir(exist_ok=True)
    picture.write_bytes(b"\x89PNG first picture")
    calls = [{"name": "mcp__content__image"}, {"name": "mcp__content__big", "arguments": {"chars": 5_000}}]
    first_script = [{"tool_calls": calls}, {"text": "seen"}]
    servers = {"content": content_server()}
    inputs = [
        {"type": "text", "text": "look", "text_elements": []},
        {"type": "localImage", "path": "shot.png"},
    ]
    async with turn_daemon(home, first_script, servers, tool_output_max_chars=4_500) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("content", thread_id)
        result = await turns.daemon.call("turn/start", {"threadId": thread_id, "input": inputs})
        with anyio.fail_after(DEFAULT_WAIT):
            assert (await turns.turn_completed(result["turn"]["id"]))["status"] == "completed"
        seen_first = turns.model.requests[-1].body["input"]
    # The file changes after the turn: the model is still shown the picture the user attached.
    picture.write_bytes(b"\x89PNG another picture")
    async with turn_daemon(home, [{"text": "again"}], servers, tool_output_max_chars=4_500) as turns:
        await turns.daemon.call("thread/resume", {"threadId": thread_id})
        turn_id = await turns.start_turn(thread_id, "and now?")
        with anyio.fail_after(DEFAULT_WAIT):
            assert (await turns.turn_completed(turn_id))["status"] == "completed"
        (request,) = turns.model.requests
    seen_again = request.body["input"]
    assert seen_again[: len(seen_first)] == seen_first
    assert [item.get("role") for item in seen_again[len(seen_first) :]] == ["assistant", "user"]
    image_output, big_output = [
        item["output"] for item in seen_first if item["type"] == "function_call_output"
    ]
    assert [part["type"] for part in image_output] == ["input_text", "input_image"]
    assert big_output.startswith("x" * 4_500 + "\n\n[This tool result was cut")
    user_message = next(item for item in seen_first if item.get("role") == "user")
    assert user_message["content"][1]["image_url"].startswith("data:image/png;base64,")
