"""Chat Completions decoding beyond what the scripted server streams: errors, usage, bare chunks."""

from __future__ import annotations

import json

import pytest

from app_server.model.chat_api import ChatDecoder, request_body
from app_server.model.step import (
    AssistantMessage,
    Completed,
    FunctionCall,
    FunctionCallOutput,
    InputImage,
    StepRequest,
    Usage,
    UserMessage,
)
from app_server.model.stream import ResponseFailedError


def test_an_error_chunk_fails_the_response_without_retry() -> None:
    with pytest.raises(ResponseFailedError) as raised:
        ChatDecoder().decode(json.dumps({"error": {"message": "bad model"}}))
    assert (raised.value.message, raised.value.retryable) == ("bad model", False)


def test_usage_sent_after_the_finish_reason_is_part_of_the_completion() -> None:
    decoder = ChatDecoder()
    decoder.decode(json.dumps({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    decoder.decode(json.dumps({"id": "c1", "choices": [], "usage": usage}))
    decoder.decode("[DONE]")
    assert decoder.completion == Completed("c1", Usage(input_tokens=3, output_tokens=4, total_tokens=7))


def test_a_stream_without_finish_reason_is_not_complete() -> None:
    decoder = ChatDecoder()
    decoder.decode(json.dumps({"choices": [{"index": 0, "delta": {"content": "partial"}}]}))
    assert decoder.completion is None


def test_developer_instructions_go_as_a_second_system_message_and_no_tools_means_no_tool_fields() -> None:
    request = StepRequest(
        model="m", instructions="base", developer_instructions="dev", history=(UserMessage("u"),)
    )
    body = request_body(request)
    assert body["messages"] == [
        {"role": "system", "content": "base"},
        {"role": "system", "content": "dev"},
        {"role": "user", "content": "u"},
    ]
    assert "parallel_tool_calls" not in body and "tool_choice" not in body


def test_images_a_tool_returned_follow_the_run_of_tool_messages_as_one_user_message() -> None:
    chart = InputImage("data:image/png;base64,AAAA")
    history = (
        UserMessage("look", (InputImage("https://example.com/a.png", "low"),)),
        FunctionCall("c1", "chart", "{}"),
        FunctionCall("c2", "echo", "{}"),
        FunctionCallOutput("c1", "a chart", (chart,)),
        FunctionCallOutput("c2", "echoed"),
        AssistantMessage("seen"),
    )
    messages = request_body(StepRequest(model="m", instructions="base", history=history))["messages"]
    assert [message["role"] for message in messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "user",
        "assistant",
    ]
    assert messages[1]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
    ]
    assert messages[3]["content"] == "a chart"
    assert messages[5]["content"] == [
        {"type": "text", "text": "Images returned by tool call c1:"},
        {"type": "image_url", "image_url": {"url": chart.url}},
    ]
