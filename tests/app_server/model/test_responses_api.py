"""Responses API decoding of events the scripted server does not produce: failures and odd payloads."""

from __future__ import annotations

import json

import pytest

from app_server.model.responses_api import ResponsesDecoder, request_body
from app_server.model.step import AssistantMessage, StepRequest, UserMessage
from app_server.model.stream import ResponseFailedError


@pytest.mark.parametrize(("code", "retryable"), [("server_error", True), ("context_length_exceeded", False)])
def test_response_failed_carries_the_message_and_whether_a_retry_may_help(code: str, retryable: bool) -> None:
    event = {"type": "response.failed", "response": {"error": {"code": code, "message": "went wrong"}}}
    with pytest.raises(ResponseFailedError) as raised:
        ResponsesDecoder().decode(json.dumps(event))
    assert (raised.value.message, raised.value.retryable) == ("went wrong", retryable)


def test_an_error_event_fails_the_response() -> None:
    with pytest.raises(ResponseFailedError) as raised:
        ResponsesDecoder().decode(
            json.dumps({"type": "error", "code": "rate_limit_exceeded", "message": "slow"})
        )
    assert raised.value.retryable


def test_unknown_events_and_unparsable_payloads_are_skipped() -> None:
    decoder = ResponsesDecoder()
    for data in [
        "not json",
        "[1]",
        json.dumps({"type": "response.reasoning_summary_text.delta", "delta": "x"}),
    ]:
        assert decoder.decode(data) == []
    assert decoder.completion is None


def test_developer_instructions_and_assistant_messages_become_input_items() -> None:
    request = StepRequest(
        model="m",
        instructions="base",
        developer_instructions="dev",
        history=(UserMessage("u"), AssistantMessage("a")),
    )
    body = request_body(request)
    assert body["instructions"] == "base"
    assert [(item["role"], item["content"][0]["type"]) for item in body["input"]] == [
        ("developer", "input_text"),
        ("user", "input_text"),
        ("assistant", "output_text"),
    ]
    assert body["store"] is False
