"""What the model is sent for each kind of MCP tool content, and the cap on one result, through the
real daemon with a scripted Responses model that records each request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.threads.tool_output import (
    IMAGE_BUDGET_CHARS,
    READ_TOOL_OUTPUT,
    ModelOutput,
    model_output,
    read_on,
)
from tests.app_server.threads.turn_harness import DEFAULT_WAIT, TurnDaemon, content_server, turn_daemon
from tests.fixtures.mcp_servers.content_server import PNG
from tests.support.config import MODEL_KEY_ENV

pytestmark = pytest.mark.anyio

KINDS = ("text", "image", "audio", "resource_text", "resource_blob", "resource_link", "structured")


def function_outputs(body: dict[str, Any]) -> dict[str, Any]:
    """`function_call_output` items of a Responses request body by call id: their `output`."""
    return {
        item["call_id"]: item["output"] for item in body["input"] if item["type"] == "function_call_output"
    }


async def run_turn(turns: TurnDaemon) -> None:
    """A thread and one turn on it, run to completion."""
    thread_id = await turns.start_thread()
    await turns.server_ready("content", thread_id)
    turn_id = await turns.start_turn(thread_id)
    with anyio.fail_after(DEFAULT_WAIT):
        turn = await turns.turn_completed(turn_id)
    assert turn["status"] == "completed", turn


async def run_calls(turns: TurnDaemon, calls: int) -> dict[str, Any]:
    """Run a turn whose first step makes `calls` calls; the outputs the second request carried."""
    await run_turn(turns)
    assert len(turns.model.requests) == 2
    outputs = function_outputs(turns.model.requests[1].body)
    assert len(outputs) == calls
    return outputs


async def test_each_kind_of_content_reaches_the_model_as_what_it_is(home: Path) -> None:
    script = [
        {"tool_calls": [{"name": f"mcp__content__{kind}"} for kind in KINDS]},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"content": content_server()}) as turns:
        outputs = await run_calls(turns, len(KINDS))
    by_kind = dict(zip(KINDS, (outputs[f"call_0_{index}"] for index in range(len(KINDS))), strict=True))
    assert by_kind["text"] == "plain text"
    assert by_kind["image"] == [
        {"type": "input_text", "text": "a chart"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "auto"},
    ]
    assert by_kind["audio"] == "[audio: audio/wav, 100 bytes, not shown to the model]"
    assert by_kind["resource_text"] == "the notes"
    assert by_kind["resource_blob"] == (
        "[embedded resource file:///data.bin (application/octet-stream), 64 bytes of binary data not shown]"
    )
    assert by_kind["resource_link"] == "[resource link: report <file:///report.pdf> (application/pdf)]"
    assert by_kind["structured"] == '{"answer": 42}'


async def test_a_result_over_the_cap_is_cut_with_a_notice_and_kept_whole_in_the_thread(home: Path) -> None:
    script = [
        {"tool_calls": [{"name": "mcp__content__big", "arguments": {"chars": 300_000}}]},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"content": content_server()}, tool_output_max_chars=1_000) as turns:
        outputs = await run_calls(turns, 1)
        item = await turns.item_completed("call_0_0")
    output = outputs["call_0_0"]
    assert output.startswith("x" * 1_000 + "\n\n[This tool result was cut to 1,000 characters")
    assert "299,000 of its 300,000 characters were left out" in output
    assert 'To read on, call `read_tool_output` with call_id "call_0_0" and offset 1000' in output
    assert len(item["result"]["content"][0]["text"]) == 300_000


async def test_the_model_reads_on_in_a_cut_result_with_read_tool_output(home: Path) -> None:
    script = [
        {"tool_calls": [{"name": "mcp__content__big", "arguments": {"chars": 5_000}}]},
        {"tool_calls": [{"name": READ_TOOL_OUTPUT, "arguments": {"call_id": "call_0_0", "offset": 2_000}}]},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"content": content_server()}, tool_output_max_chars=2_000) as turns:
        await run_turn(turns)
        item = await turns.item_completed("call_1_0")
    first, second, third = turns.model.requests
    assert READ_TOOL_OUTPUT not in first.tool_names and READ_TOOL_OUTPUT in second.tool_names
    expected = "x" * 2_000 + f"\n\n[1,000 more characters: call `{READ_TOOL_OUTPUT}` with offset 4000.]"
    assert function_outputs(third.body)["call_1_0"] == expected
    assert (item["type"], item["status"], item["contentItems"]) == (
        "dynamicToolCall",
        "completed",
        [{"type": "inputText", "text": expected}],
    )


async def test_a_server_s_own_cap_wins_over_the_global_one(home: Path) -> None:
    script = [
        {"tool_calls": [{"name": "mcp__content__big", "arguments": {"chars": 5_000}}]},
        {"text": "done"},
    ]
    servers = {"content": content_server(tool_output_max_chars=2_000)}
    async with turn_daemon(home, script, servers, tool_output_max_chars=1_000_000) as turns:
        outputs = await run_calls(turns, 1)
    assert outputs["call_0_0"].startswith("x" * 2_000 + "\n\n[This tool result was cut to 2,000")


async def test_images_count_by_a_fixed_budget_not_their_base64_length(home: Path) -> None:
    script = [{"tool_calls": [{"name": "mcp__content__image"}]}, {"text": "done"}]
    # Room for the text and exactly one image's budget: the image is kept whatever its size.
    cap = len("a chart") + IMAGE_BUDGET_CHARS
    async with turn_daemon(home, script, {"content": content_server()}, tool_output_max_chars=cap) as turns:
        outputs = await run_calls(turns, 1)
    assert [part["type"] for part in outputs["call_0_0"]] == ["input_text", "input_image"]


async def test_an_image_past_the_cap_is_left_out_and_named_in_the_notice(home: Path) -> None:
    script = [{"tool_calls": [{"name": "mcp__content__image"}]}, {"text": "done"}]
    async with turn_daemon(home, script, {"content": content_server()}, tool_output_max_chars=100) as turns:
        outputs = await run_calls(turns, 1)
        item = await turns.item_completed("call_0_0")
    assert isinstance(outputs["call_0_0"], str)
    assert "1 of its 1 images were left out" in outputs["call_0_0"]
    assert item["result"]["content"][1]["data"] == PNG


def finished(*content: dict[str, Any], structured: Any = None) -> dict[str, Any]:
    """A completed mcpToolCall item as recorded, with this content."""
    result: dict[str, Any] = {"content": list(content)}
    if structured is not None:
        result["structuredContent"] = structured
    return {"type": "mcpToolCall", "status": "completed", "result": result}


def image(data: str = "AAAA") -> dict[str, Any]:
    return {"type": "image", "data": data, "mimeType": "image/jpeg"}


def test_images_are_kept_in_order_while_the_budget_lasts() -> None:
    output = model_output(finished(image("1"), image("2"), image("3")), 2 * IMAGE_BUDGET_CHARS)
    assert [picture.url for picture in output.images] == [
        "data:image/jpeg;base64,1",
        "data:image/jpeg;base64,2",
    ]
    assert "1 of its 3 images were left out" in output.text


def test_text_takes_precedence_over_structured_content_which_fills_in_when_there_is_none() -> None:
    text = {"type": "text", "text": "hello"}
    assert model_output(finished(text, structured={"a": 1}), 100).text == "hello"
    assert model_output(finished(image(), structured={"a": 1}), 100_000).text == '{"a": 1}'
    assert model_output(finished(), 100).text == "[]"


def test_a_failed_call_tells_the_model_its_error() -> None:
    item = {"type": "mcpToolCall", "status": "failed", "error": {"message": "boom"}}
    assert model_output(item, 100) == ModelOutput("error: boom")


def test_a_result_within_the_cap_is_left_as_it_is() -> None:
    exact = finished({"type": "text", "text": "y" * 100})
    assert model_output(exact, 100).text == "y" * 100


async def test_on_the_chat_completions_wire_a_tool_image_follows_the_tool_message_as_a_user_message(
    home: Path,
) -> None:
    script = [{"tool_calls": [{"name": "mcp__content__image"}]}, {"text": "done"}]
    async with turn_daemon(home, script, {"content": content_server()}) as turns:
        chat = {"base_url": turns.model.base_url, "wire_api": "chat", "env_key": MODEL_KEY_ENV}
        turns.configure({"content": content_server()}, model_providers={"scripted": chat})
        await turns.reload()
        await run_turn(turns)
    assert [request.api for request in turns.model.requests] == ["chat", "chat"]
    messages = turns.model.requests[1].body["messages"]
    assert [message["role"] for message in messages[-3:]] == ["assistant", "tool", "user"]
    assert messages[-2]["content"] == "a chart"
    assert messages[-1]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG}"},
    }


@pytest.mark.parametrize(
    ("arguments", "answer"),
    [
        (
            {"call_id": "other", "offset": 0},
            "There is no finished tool call with that call_id in this thread.",
        ),
        ({"call_id": "c1", "offset": -1}, "offset must be a whole number of characters, 0 or more."),
        ({"call_id": "c1", "offset": 3}, "lo"),
    ],
)
def test_reading_on_answers_a_wrong_call_or_offset_in_words(arguments: dict[str, Any], answer: str) -> None:
    item = {**finished({"type": "text", "text": "hello"}), "id": "c1", "server": "s"}
    assert read_on([item], arguments, lambda _server: 10) == answer
