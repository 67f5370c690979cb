"""The OpenAI Responses API wire: a step as a `POST /responses` body, and its SSE events as step events."""

from __future__ import annotations

import json
from typing import Any

from app_server.model.step import (
    AssistantMessage,
    Completed,
    FunctionCall,
    FunctionCallOutput,
    HistoryItem,
    InputImage,
    MessageDone,
    StepEvent,
    StepRequest,
    TextDelta,
    Usage,
    UserMessage,
)
from app_server.model.stream import ResponseFailedError

PATH = "/responses"

# Error codes after which the same request is worth sending again (the provider's own words).
_RETRYABLE_FAILURE_CODES = frozenset({"rate_limit_exceeded", "server_error", "server_is_overloaded"})


def request_body(request: StepRequest) -> dict[str, Any]:
    """The JSON body for one streaming step; nothing is stored on the provider's side."""
    items: list[dict[str, Any]] = []
    if request.developer_instructions:
        items.append(_message("developer", "input_text", request.developer_instructions))
    items.extend(_input_item(item) for item in request.history)
    return {
        "model": request.model,
        "instructions": request.instructions,
        "input": items,
        "tools": [
            {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "strict": False,
                "parameters": tool.parameters,
            }
            for tool in request.tools
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": request.parallel_tool_calls,
        "store": False,
        "stream": True,
    }


def _message(role: str, content_type: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": content_type, "text": text}]}


def _input_item(item: HistoryItem) -> dict[str, Any]:
    match item:
        case UserMessage(text=text, images=()):
            return _message("user", "input_text", text)
        case UserMessage(text=text, images=images):
            return {"type": "message", "role": "user", "content": _parts(text, images)}
        case AssistantMessage(text=text):
            return _message("assistant", "output_text", text)
        case FunctionCall(call_id=call_id, name=name, arguments=arguments):
            return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}
        case FunctionCallOutput(call_id=call_id, output=output, images=images):
            # A plain string where there is no image: the shape every provider takes.
            body: str | list[dict[str, Any]] = _parts(output, images) if images else output
            return {"type": "function_call_output", "call_id": call_id, "output": body}


def _parts(text: str, images: tuple[InputImage, ...]) -> list[dict[str, Any]]:
    """`input_text` (when there is text) then one `input_image` per image."""
    parts: list[dict[str, Any]] = [{"type": "input_text", "text": text}] if text else []
    parts.extend(
        {"type": "input_image", "image_url": image.url, "detail": image.detail or "auto"} for image in images
    )
    return parts


class ResponsesDecoder:
    """Turns one response's SSE events into step events; `completion` is set once it completed.

    Text arrives as `response.output_text.delta`; whole items (messages, function calls) as
    `response.output_item.done`; `response.completed` carries the id and usage. Unknown events are
    skipped, so newer providers that add events keep working.
    """

    def __init__(self) -> None:
        self.completion: Completed | None = None

    def decode(self, data: str) -> list[StepEvent]:
        """Step events for one SSE `data` payload; raises ResponseFailedError on `response.failed`/`error`."""
        try:
            event = json.loads(data)
        except ValueError:
            return []
        if not isinstance(event, dict):
            return []
        kind = event.get("type")
        if kind == "response.output_text.delta":
            delta = event.get("delta")
            return [TextDelta(delta)] if isinstance(delta, str) and delta else []
        if kind == "response.output_item.done":
            return _item_done(event.get("item"))
        if kind == "response.completed":
            response = event.get("response")
            if isinstance(response, dict):
                self.completion = Completed(str(response.get("id", "")), _usage(response.get("usage")))
            return []
        if kind == "response.failed":
            response = event.get("response")
            error = response.get("error") if isinstance(response, dict) else None
            raise _failure(error if isinstance(error, dict) else {})
        if kind == "error":
            raise _failure(event)
        return []


def _item_done(item: object) -> list[StepEvent]:
    if not isinstance(item, dict):
        return []
    if item.get("type") == "function_call":
        return [
            FunctionCall(
                call_id=str(item.get("call_id", "")),
                name=str(item.get("name", "")),
                arguments=str(item.get("arguments", "")),
                namespace=str(item["namespace"]) if item.get("namespace") else None,
            )
        ]
    if item.get("type") == "message" and item.get("role") == "assistant":
        parts = item.get("content")
        text = "".join(
            str(part.get("text", ""))
            for part in (parts if isinstance(parts, list) else [])
            if isinstance(part, dict) and part.get("type") == "output_text"
        )
        return [MessageDone(text)]
    return []


def _failure(error: dict[str, Any]) -> ResponseFailedError:
    code = error.get("code")
    message = error.get("message")
    return ResponseFailedError(
        message if isinstance(message, str) else "",
        retryable=code in _RETRYABLE_FAILURE_CODES,
    )


def _usage(raw: object) -> Usage | None:
    return Usage.from_wire(raw, sent="input", received="output") if isinstance(raw, dict) else None
