"""Renders one scripted step as the SSE frames a real provider would send, for either wire API."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from app_server.model.script import ScriptedUsage, ScriptStep


@dataclass(frozen=True, slots=True)
class Frame:
    """One SSE event as bytes; `output` marks frames a client turns into a step event (text or call)."""

    data: bytes
    output: bool = False


def _sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def _usage(usage: ScriptedUsage, *, sent: str, received: str) -> dict[str, Any]:
    """A usage object as providers write it, its counts named `<sent>_tokens` / `<received>_tokens`
    (input/output in the Responses API, prompt/completion in Chat Completions)."""
    return {
        f"{sent}_tokens": usage.input_tokens,
        f"{sent}_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        f"{received}_tokens": usage.output_tokens,
        f"{received}_tokens_details": {"reasoning_tokens": usage.reasoning_output_tokens},
        "total_tokens": usage.total_tokens,
    }


def call_id_of(step_index: int, call_index: int, explicit: str | None) -> str:
    return explicit or f"call_{step_index}_{call_index}"


def responses_frames(step: ScriptStep, step_index: int, model: str) -> list[Frame]:
    """The Responses API event sequence: created, each item added/streamed/done, completed."""
    response_id = f"resp_{step_index}"
    frames: list[Frame] = []
    output: list[dict[str, Any]] = []

    def emit(event: dict[str, Any], *, is_output: bool = False) -> None:
        event["sequence_number"] = len(frames)
        frames.append(Frame(_sse(event, event["type"]), is_output))

    shell = {"id": response_id, "object": "response", "model": model, "created_at": int(time.time())}
    emit({"type": "response.created", "response": {**shell, "status": "in_progress", "output": []}})
    for call_index, call in enumerate(step.tool_calls):
        index = len(output)
        item: dict[str, Any] = {
            "type": "function_call",
            "id": f"fc_{step_index}_{call_index}",
            "call_id": call_id_of(step_index, call_index, call.call_id),
            "name": call.name,
            "arguments": call.arguments_json,
            "status": "completed",
        }
        if call.namespace is not None:
            item["namespace"] = call.namespace
        added = {**item, "arguments": "", "status": "in_progress"}
        emit({"type": "response.output_item.added", "output_index": index, "item": added})
        emit(
            {
                "type": "response.function_call_arguments.delta",
                "item_id": item["id"],
                "output_index": index,
                "delta": item["arguments"],
            }
        )
        emit(
            {
                "type": "response.function_call_arguments.done",
                "item_id": item["id"],
                "output_index": index,
                "arguments": item["arguments"],
            }
        )
        emit({"type": "response.output_item.done", "output_index": index, "item": item}, is_output=True)
        output.append(item)
    if step.deltas:
        index = len(output)
        message_id = f"msg_{step_index}"
        text = "".join(step.deltas)
        part: dict[str, Any] = {"type": "output_text", "text": text, "annotations": []}
        message: dict[str, Any] = {
            "type": "message",
            "id": message_id,
            "role": "assistant",
            "status": "completed",
        }
        where = {"item_id": message_id, "output_index": index, "content_index": 0}
        emit(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**message, "status": "in_progress", "content": []},
            }
        )
        emit({"type": "response.content_part.added", **where, "part": {**part, "text": ""}})
        for delta in step.deltas:
            emit({"type": "response.output_text.delta", **where, "delta": delta}, is_output=True)
        emit({"type": "response.output_text.done", **where, "text": text})
        emit({"type": "response.content_part.done", **where, "part": part})
        item = {**message, "content": [part]}
        emit({"type": "response.output_item.done", "output_index": index, "item": item})
        output.append(item)
    wire_usage = _usage(step.usage, sent="input", received="output")
    emit(
        {
            "type": "response.completed",
            "response": {**shell, "status": "completed", "output": output, "usage": wire_usage},
        }
    )
    return frames


def responses_failure_frames(step_index: int, model: str, code: str, message: str) -> list[Frame]:
    """A response that starts and then fails with `code` (e.g. `server_error`, `context_length_exceeded`)."""
    response = {"id": f"resp_{step_index}", "object": "response", "model": model, "output": []}
    created = {
        "type": "response.created",
        "sequence_number": 0,
        "response": {**response, "status": "in_progress"},
    }
    failed = {
        "type": "response.failed",
        "sequence_number": 1,
        "response": {**response, "status": "failed", "error": {"code": code, "message": message}},
    }
    return [Frame(_sse(created, "response.created")), Frame(_sse(failed, "response.failed"))]


def chat_failure_frames(code: str, message: str) -> list[Frame]:
    """The error object some Chat Completions servers stream in place of a chunk."""
    return [Frame(_sse({"error": {"code": code, "message": message, "type": "server_error"}}))]


def chat_frames(step: ScriptStep, step_index: int, model: str) -> list[Frame]:
    """Chat Completions chunks: role, tool calls in pieces (id and name first), text, finish, the usage
    chunk (no choices, as `stream_options.include_usage` asks), [DONE]."""
    shell = {
        "id": f"chatcmpl-{step_index}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return _sse({**shell, "choices": [choice]})

    frames = [Frame(chunk({"role": "assistant", "content": ""}))]
    for call_index, call in enumerate(step.tool_calls):
        opening = {
            "index": call_index,
            "id": call_id_of(step_index, call_index, call.call_id),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        frames.append(Frame(chunk({"tool_calls": [opening]}), output=True))
        arguments = call.arguments_json
        middle = len(arguments) // 2
        for piece in (arguments[:middle], arguments[middle:]):
            piece_delta = {"index": call_index, "function": {"arguments": piece}}
            frames.append(Frame(chunk({"tool_calls": [piece_delta]})))
    frames.extend(Frame(chunk({"content": delta}), output=True) for delta in step.deltas)
    frames.append(Frame(chunk({}, "tool_calls" if step.tool_calls else "stop")))
    usage = _usage(step.usage, sent="prompt", received="completion")
    frames.append(Frame(_sse({**shell, "choices": [], "usage": usage})))
    frames.append(Frame(_sse("[DONE]")))
    return frames
