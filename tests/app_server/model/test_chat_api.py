"""Chat Completions decoding beyond what the scripted server streams: errors, usage, bare chunks."""

from __future__ import annotations

import json

import pytest

from app_server.model.chat_api import ChatDecoder, request_body
from app_server.model.step import Completed, StepRequest, Usage, UserMessage
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
