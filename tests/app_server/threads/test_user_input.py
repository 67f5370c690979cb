"""Images a user attaches to `turn/start` reach the model as image inputs and stay with the thread
item, through the real daemon and a scripted Responses model that records each request."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.errors import InvalidParams
from app_server.threads.user_input import recorded_content
from protocol.items import LocalImageInput
from tests.app_server.threads.turn_harness import DEFAULT_WAIT, TurnDaemon, turn_daemon

pytestmark = pytest.mark.anyio

PIXEL = bytes.fromhex("89504e470d0a1a0a") + b"user-image"
DATA_URL = "data:image/png;base64," + base64.b64encode(PIXEL).decode()
TEXT = {"type": "text", "text": "what is this?", "text_elements": []}


async def run_turn(turns: TurnDaemon, inputs: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """A turn with these inputs; the thread id and the user message the model was sent."""
    thread_id = await turns.start_thread()
    result = await turns.daemon.call("turn/start", {"threadId": thread_id, "input": inputs})
    with anyio.fail_after(DEFAULT_WAIT):
        turn = await turns.turn_completed(result["turn"]["id"])
    assert turn["status"] == "completed", turn
    (request,) = turns.model.requests
    (message,) = [item for item in request.body["input"] if item.get("role") == "user"]
    return thread_id, message


async def test_an_image_url_and_a_data_url_reach_the_model_as_image_inputs(home: Path) -> None:
    inputs = [
        TEXT,
        {"type": "image", "url": "https://example.com/cat.png", "detail": "low"},
        {"type": "image", "url": DATA_URL},
    ]
    async with turn_daemon(home, [{"text": "a cat"}], {}) as turns:
        thread_id, message = await run_turn(turns, inputs)
        items = await turns.read_items(thread_id)
    assert message["content"] == [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "low"},
        {"type": "input_image", "image_url": DATA_URL, "detail": "auto"},
    ]
    (user_item,) = [item for item in items.values() if item["type"] == "userMessage"]
    assert user_item["content"][1:] == inputs[1:]


async def test_a_local_image_is_read_and_sent_as_a_data_url_and_the_item_keeps_its_path(home: Path) -> None:
    picture = home / "work" / "shot.png"
    picture.parent.mkdir(exist_ok=True)
    picture.write_bytes(PIXEL)
    inputs = [TEXT, {"type": "localImage", "path": "shot.png"}]
    async with turn_daemon(home, [{"text": "a screenshot"}], {}) as turns:
        thread_id, message = await run_turn(turns, inputs)
        items = await turns.read_items(thread_id)
    assert message["content"][1] == {"type": "input_image", "image_url": DATA_URL, "detail": "auto"}
    (user_item,) = [item for item in items.values() if item["type"] == "userMessage"]
    assert user_item["content"][1] == {"type": "localImage", "path": "shot.png"}


async def test_a_missing_local_image_is_a_clear_error_and_nothing_is_sent(home: Path) -> None:
    inputs = [TEXT, {"type": "localImage", "path": "/nowhere/shot.png"}]
    async with turn_daemon(home, [{"text": "never"}], {}) as turns:
        thread_id = await turns.start_thread()
        response = await turns.daemon.request("turn/start", {"threadId": thread_id, "input": inputs})
        thread = await turns.daemon.call("thread/read", {"threadId": thread_id, "includeTurns": True})
    assert response["error"]["code"] == -32602
    assert response["error"]["message"] == "local image `/nowhere/shot.png` does not exist"
    assert turns.model.requests == []
    assert thread["thread"]["turns"] == []


@pytest.mark.parametrize(
    ("name", "problem"),
    [("folder.png", "cannot be read"), ("notes.txt", "is not a PNG, JPEG, GIF or WebP file")],
)
async def test_a_local_image_that_cannot_be_read_as_an_image_is_refused(
    tmp_path: Path, name: str, problem: str
) -> None:
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(InvalidParams) as raised:
        await recorded_content([LocalImageInput(path=name)], str(tmp_path))
    assert raised.value.message == f"local image `{tmp_path / name}` {problem}"
