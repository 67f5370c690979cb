"""ModelClient against the real scripted model server over HTTP, on both wire APIs."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import pytest

from app_server.errors import RequestFailed
from app_server.model import (
    Completed,
    FunctionCall,
    FunctionCallOutput,
    FunctionTool,
    MessageDone,
    ModelClient,
    ModelError,
    ProviderConfig,
    Retrying,
    StepEvent,
    StepRequest,
    TextDelta,
    Usage,
    UserMessage,
)
from app_server.model.backoff import Backoff
from app_server.model.script import ScriptedFailure, ScriptedToolCall, ScriptedUsage, ScriptStep
from app_server.model.scripted import ScriptedModelServer

pytestmark = pytest.mark.anyio

API_KEY = "sk-test-secret-key-0123456789"
WIRE_APIS = ["responses", "chat"]
FAST = Backoff(base_delay=0.001, max_delay=0.01)
ECHO = FunctionTool("mcp__fixture__echo", "Echo the text back.", {"type": "object", "properties": {}})
DROPPED = "model provider 'scripted' stream disconnected before the response completed"


def client_for(base_url: str, wire_api: str, **settings: Any) -> ModelClient:
    provider = ProviderConfig.model_validate(
        {"name": "scripted", "base_url": base_url, "wire_api": wire_api, **settings}
    )
    return ModelClient(provider, API_KEY, backoff=FAST)


@asynccontextmanager
async def scripted(
    steps: list[ScriptStep], wire_api: str, **settings: Any
) -> AsyncIterator[tuple[ScriptedModelServer, ModelClient]]:
    """A scripted server playing `steps`, and a client configured for it."""
    async with (
        ScriptedModelServer(steps) as server,
        client_for(server.base_url, wire_api, **settings) as client,
    ):
        yield server, client


def ask(text: str = "hi", tools: tuple[FunctionTool, ...] = (ECHO,)) -> StepRequest:
    return StepRequest(model="m1", instructions="Be brief.", history=(UserMessage(text),), tools=tools)


async def collect(client: ModelClient, request: StepRequest) -> list[StepEvent]:
    with anyio.fail_after(10):
        async with client.stream_step(request) as events:
            return [event async for event in events]


def without_completion(events: list[StepEvent]) -> list[StepEvent]:
    """The answer's events: the last is the one Completed, and the retries are left out."""
    assert isinstance(events[-1], Completed)
    assert not any(isinstance(event, Completed) for event in events[:-1])
    return [event for event in events[:-1] if not isinstance(event, Retrying)]


def retries(events: list[StepEvent]) -> list[str]:
    """What the client said before each retry, in order (all of it before the answer's first event)."""
    said = [event.message for event in events if isinstance(event, Retrying)]
    assert all(isinstance(event, Retrying) for event in events[: len(said)])
    return said


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_text_answer_streams_its_deltas_in_order_then_the_whole_message(wire_api: str) -> None:
    async with scripted([ScriptStep(text="Hello there, friend.")], wire_api) as (_, client):
        events = await collect(client, ask())
    assert without_completion(events) == [
        TextDelta("Hello"),
        TextDelta(" there,"),
        TextDelta(" friend."),
        MessageDone("Hello there, friend."),
    ]


async def test_responses_completion_carries_the_response_id() -> None:
    async with scripted([ScriptStep(text="ok")], "responses") as (_, client):
        events = await collect(client, ask())
    completed = events[-1]
    assert isinstance(completed, Completed)
    assert completed.response_id == "resp_0"


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_completion_carries_the_usage_the_provider_reported(wire_api: str) -> None:
    usage = ScriptedUsage(
        input_tokens=120, cached_input_tokens=100, output_tokens=8, reasoning_output_tokens=3
    )
    async with scripted([ScriptStep(text="ok", usage=usage)], wire_api) as (server, client):
        events = await collect(client, ask())
    completed = events[-1]
    assert isinstance(completed, Completed)
    assert completed.usage == Usage(
        input_tokens=120,
        output_tokens=8,
        total_tokens=128,
        cached_input_tokens=100,
        reasoning_output_tokens=3,
    )
    if wire_api == "chat":
        assert server.requests[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_tool_call_step_yields_the_call_with_its_arguments_as_json_text(wire_api: str) -> None:
    step = ScriptStep(tool_calls=[ScriptedToolCall(name="mcp__fixture__echo", arguments={"text": "a b"})])
    async with scripted([step], wire_api) as (_, client):
        events = await collect(client, ask())
    assert without_completion(events) == [FunctionCall("call_0_0", "mcp__fixture__echo", '{"text": "a b"}')]


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_parallel_tool_calls_arrive_whole_and_in_order(wire_api: str) -> None:
    step = ScriptStep(
        tool_calls=[
            ScriptedToolCall(name="mcp__a__one", arguments={"n": 1}, call_id="call_x"),
            ScriptedToolCall(name="mcp__b__two", arguments='{"n": 2, "nested": {"k": [1, 2]}}'),
        ]
    )
    async with scripted([step], wire_api) as (server, client):
        events = await collect(client, ask())
    assert server.requests[0].body["parallel_tool_calls"] is True
    assert without_completion(events) == [
        FunctionCall("call_x", "mcp__a__one", '{"n": 1}'),
        FunctionCall("call_0_1", "mcp__b__two", '{"n": 2, "nested": {"k": [1, 2]}}'),
    ]


async def test_chat_message_ends_before_the_tool_calls_of_the_same_answer() -> None:
    step = ScriptStep(text="Let me check.", tool_calls=[ScriptedToolCall(name="mcp__a__one")])
    async with scripted([step], "chat") as (_, client):
        events = await collect(client, ask())
    assert without_completion(events) == [
        TextDelta("Let"),
        TextDelta(" me"),
        TextDelta(" check."),
        MessageDone("Let me check."),
        FunctionCall("call_0_0", "mcp__a__one", "{}"),
    ]


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_request_sends_the_key_headers_query_and_advertised_tools(wire_api: str) -> None:
    settings = {"http_headers": {"X-Team": "blue"}, "query_params": {"api-version": "7"}}
    async with scripted([ScriptStep(text="ok")], wire_api, **settings) as (server, client):
        await collect(client, ask())
    recorded = server.requests[0]
    assert recorded.api == wire_api
    assert recorded.headers["authorization"] == f"Bearer {API_KEY}"
    assert recorded.headers["x-team"] == "blue"
    assert recorded.query == {"api-version": "7"}
    assert recorded.tool_names == ["mcp__fixture__echo"]
    assert recorded.body["model"] == "m1"
    assert recorded.body["stream"] is True


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_each_step_request_is_logged_with_its_history_and_tools(wire_api: str) -> None:
    script = [
        ScriptStep(tool_calls=[ScriptedToolCall(name="mcp__fixture__echo", arguments={"text": "x"})]),
        ScriptStep(text="done"),
    ]
    async with scripted(script, wire_api) as (server, client):
        call = (await collect(client, ask("go")))[0]
        assert isinstance(call, FunctionCall)
        history = (
            UserMessage("go"),
            FunctionCall(call.call_id, call.name, call.arguments),
            FunctionCallOutput(call.call_id, "x"),
        )
        await collect(client, StepRequest(model="m1", instructions="Be brief.", history=history))
    assert [(r.step, r.tool_names) for r in server.requests] == [(0, ["mcp__fixture__echo"]), (1, [])]
    body = server.requests[1].body
    arguments = '{"text": "x"}'
    if wire_api == "responses":
        assert body["input"][1:] == [
            {
                "type": "function_call",
                "call_id": "call_0_0",
                "name": "mcp__fixture__echo",
                "arguments": arguments,
            },
            {"type": "function_call_output", "call_id": "call_0_0", "output": "x"},
        ]
    else:
        function = {"name": "mcp__fixture__echo", "arguments": arguments}
        assert body["messages"][2:] == [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call_0_0", "type": "function", "function": function}],
            },
            {"role": "tool", "tool_call_id": "call_0_0", "content": "x"},
        ]
        assert "tools" not in body


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_500_and_429_are_retried_until_the_answer_arrives(wire_api: str) -> None:
    failures = [ScriptedFailure(status=500), ScriptedFailure(status=429, retry_after=0)]
    async with scripted([ScriptStep(text="fine now", failures=failures)], wire_api) as (server, client):
        events = await collect(client, ask())
    assert without_completion(events) == [TextDelta("fine"), TextDelta(" now"), MessageDone("fine now")]
    assert retries(events) == [
        "model provider 'scripted' failed the request (500 Internal Server Error); retrying (1/4)",
        "model provider 'scripted' failed the request (429 Too Many Requests); retrying (2/4)",
    ]
    assert [(r.step, r.attempt) for r in server.requests] == [(0, 0), (0, 1), (0, 2)]


async def test_retries_stop_after_request_max_retries_with_a_clear_error() -> None:
    failures = [ScriptedFailure(status=503, message="overloaded, try later")] * 3
    step = ScriptStep(text="never", failures=failures)
    async with scripted([step], "responses", request_max_retries=2) as (server, client):
        with pytest.raises(ModelError) as raised:
            await collect(client, ask())
    assert raised.value.message == (
        "model provider 'scripted' failed the request (503 Service Unavailable) after 3 attempts: "
        "overloaded, try later"
    )
    assert len(server.requests) == 3


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_a_stream_cut_before_any_output_is_retried_without_duplicating_anything(wire_api: str) -> None:
    failures = [ScriptedFailure(cut_after=1), ScriptedFailure(cut_after=0)]
    async with scripted([ScriptStep(text="one two", failures=failures)], wire_api) as (server, client):
        events = await collect(client, ask())
    assert without_completion(events) == [TextDelta("one"), TextDelta(" two"), MessageDone("one two")]
    assert len(retries(events)) == 2
    assert len(server.requests) == 3


@pytest.mark.parametrize(("wire_api", "cut_after"), [("responses", 4), ("chat", 2)])
async def test_a_stream_cut_after_output_fails_the_step_instead_of_repeating_deltas(
    wire_api: str, cut_after: int
) -> None:
    step = ScriptStep(text="one two three", failures=[ScriptedFailure(cut_after=cut_after)])
    received: list[StepEvent] = []
    async with scripted([step], wire_api) as (server, client):
        with pytest.raises(ModelError) as raised, anyio.fail_after(10):
            async with client.stream_step(ask()) as events:
                async for event in events:
                    received.append(event)
    assert received == [TextDelta("one")]
    assert raised.value.message == DROPPED
    assert len(server.requests) == 1


async def test_stream_retries_stop_after_stream_max_retries() -> None:
    step = ScriptStep(text="never", failures=[ScriptedFailure(cut_after=1)] * 3)
    async with scripted([step], "responses", stream_max_retries=2) as (_, client):
        with pytest.raises(ModelError) as raised:
            await collect(client, ask())
    assert raised.value.message == f"{DROPPED} after 3 attempts"


@pytest.mark.parametrize(("status", "phrase"), [(400, "Bad Request"), (401, "Unauthorized")])
async def test_a_rejected_request_fails_at_once_with_the_reason_but_never_the_key(
    status: int, phrase: str
) -> None:
    failure = ScriptedFailure(status=status, message=f"Incorrect API key provided: {API_KEY}.")
    async with scripted([ScriptStep(text="never", failures=[failure])], "responses") as (server, client):
        with pytest.raises(ModelError) as raised:
            await collect(client, ask())
    reason = "Incorrect API key provided: ***."
    assert (
        raised.value.message
        == f"model provider 'scripted' rejected the request ({status} {phrase}): {reason}"
    )
    assert isinstance(raised.value, RequestFailed)
    assert API_KEY not in str(raised.value)
    assert len(server.requests) == 1


async def test_a_long_or_markup_error_body_is_not_shown() -> None:
    failure = ScriptedFailure(status=403, message="<html><body>" + "denied " * 100 + "</body></html>")
    async with scripted([ScriptStep(text="never", failures=[failure])], "chat") as (_, client):
        with pytest.raises(ModelError) as raised:
            await collect(client, ask())
    assert raised.value.message == "model provider 'scripted' rejected the request (403 Forbidden)"


async def test_an_unreachable_provider_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client_for(f"http://127.0.0.1:{port}/v1", "responses", request_max_retries=1) as client:
        with pytest.raises(ModelError) as raised:
            await collect(client, ask())
    assert raised.value.message == "model provider 'scripted' could not be reached after 2 attempts"


async def test_a_request_past_the_end_of_the_script_gets_a_clear_error() -> None:
    async with scripted([ScriptStep(text="only")], "responses") as (server, client):
        await collect(client, ask())
        with pytest.raises(ModelError, match="no step left"):
            await collect(client, ask())
    assert server.requests[-1].step is None


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_cancelling_the_caller_closes_the_stream_promptly(wire_api: str) -> None:
    step = ScriptStep(text="first second third", hold="after_first_output")
    received: list[StepEvent] = []
    async with scripted([step], wire_api) as (server, client):

        async def consume(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            async with client.stream_step(ask()) as events:
                async for event in events:
                    received.append(event)
                    task_status.started()

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                await group.start(consume)
                await server.wait_held(0)
                group.cancel_scope.cancel()
            await server.wait_disconnected(0)
    assert received == [TextDelta("first")]


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_leaving_the_stream_block_early_closes_the_stream(wire_api: str) -> None:
    step = ScriptStep(text="first second third", hold="after_first_output")
    async with scripted([step], wire_api) as (server, client):
        with anyio.fail_after(5):
            async with client.stream_step(ask()) as events:
                async for event in events:
                    assert event == TextDelta("first")
                    break
            await server.wait_disconnected(0)


async def test_a_response_failed_for_a_transient_reason_is_retried() -> None:
    failures = [ScriptedFailure(error_code="server_error", message="try again")]
    async with scripted([ScriptStep(text="recovered", failures=failures)], "responses") as (server, client):
        events = await collect(client, ask())
    assert without_completion(events) == [TextDelta("recovered"), MessageDone("recovered")]
    assert retries(events) == ["model provider 'scripted' failed the response; retrying (1/5)"]
    assert len(server.requests) == 2


@pytest.mark.parametrize("wire_api", WIRE_APIS)
async def test_a_response_failed_for_good_ends_the_step_with_the_providers_reason(wire_api: str) -> None:
    failures = [ScriptedFailure(error_code="context_length_exceeded", message="Your input is too long.")]
    async with scripted([ScriptStep(text="never", failures=failures)], wire_api) as (server, client):
        with pytest.raises(ModelError) as raised:
            await collect(client, ask())
    assert raised.value.message == "model provider 'scripted' failed the response: Your input is too long."
    assert len(server.requests) == 1


async def test_a_stream_that_goes_quiet_past_the_idle_timeout_fails_the_step() -> None:
    step = ScriptStep(text="too late", hold="before_response")
    settings = {"stream_idle_timeout_ms": 100, "stream_max_retries": 0}
    async with scripted([step], "responses", **settings) as (server, client):
        with pytest.raises(ModelError) as raised:
            await collect(client, ask())
        server.release(0)
    assert raised.value.message == "model provider 'scripted' stopped sending (idle timeout) after 1 attempt"
