"""The Chat Completions wire: a step as a `POST /chat/completions` body, and its chunks as step events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app_server.model.step import (
    AssistantMessage,
    Completed,
    FunctionCall,
    FunctionCallOutput,
    InputImage,
    MessageDone,
    StepEvent,
    StepRequest,
    TextDelta,
    Usage,
    UserMessage,
)
from app_server.model.stream import ResponseFailedError

PATH = "/chat/completions"

_DONE = "[DONE]"


def request_body(request: StepRequest) -> dict[str, Any]:
    """The JSON body for one streaming step.

    Developer instructions travel as a second system message: many Chat Completions servers reject the
    `developer` role. Consecutive function calls become one assistant message with `tool_calls`, which
    is the only shape the API accepts for parallel calls. A `tool` message takes text only, so the
    images a call returned follow its run of tool messages as one user message (as other hosts do).
    """
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.instructions}]
    if request.developer_instructions:
        messages.append({"role": "system", "content": request.developer_instructions})
    tool_images: list[dict[str, Any]] = []
    for item in request.history:
        if tool_images and not isinstance(item, FunctionCallOutput):
            messages.append({"role": "user", "content": tool_images})
            tool_images = []
        match item:
            case UserMessage(text=text, images=()):
                messages.append({"role": "user", "content": text})
            case UserMessage(text=text, images=images):
                parts = [{"type": "text", "text": text}] if text else []
                messages.append({"role": "user", "content": parts + [_image(image) for image in images]})
            case AssistantMessage(text=text):
                messages.append({"role": "assistant", "content": text})
            case FunctionCall(call_id=call_id, name=name, arguments=arguments):
                call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                previous = messages[-1]
                if previous["role"] == "assistant" and "tool_calls" in previous:
                    previous["tool_calls"].append(call)
                else:
                    messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            case FunctionCallOutput(call_id=call_id, output=output, images=images):
                messages.append({"role": "tool", "tool_call_id": call_id, "content": output})
                if images:
                    tool_images.append({"type": "text", "text": f"Images returned by tool call {call_id}:"})
                    tool_images.extend(_image(image) for image in images)
    if tool_images:
        messages.append({"role": "user", "content": tool_images})
    # Without `include_usage` the stream reports no token usage.
    body: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        # Servers reject `parallel_tool_calls` and `tool_choice` when no tools are sent.
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
        body["tool_choice"] = "auto"
        body["parallel_tool_calls"] = request.parallel_tool_calls
    return body


def _image(image: InputImage) -> dict[str, Any]:
    url: dict[str, Any] = {"url": image.url}
    if image.detail is not None:
        url["detail"] = image.detail
    return {"type": "image_url", "image_url": url}


@dataclass
class _PartialCall:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ChatDecoder:
    """Assembles streamed chunks: text deltas pass through; tool calls build up by `index` across
    chunks and are emitted whole when the choice's `finish_reason` arrives, which also ends the message.
    """

    def __init__(self) -> None:
        self._response_id = ""
        self._usage: Usage | None = None
        self._text: list[str] = []
        self._calls: dict[int, _PartialCall] = {}
        self._finished = False

    @property
    def completion(self) -> Completed | None:
        return Completed(self._response_id, self._usage) if self._finished else None

    def decode(self, data: str) -> list[StepEvent]:
        """Step events for one chunk. Raises ResponseFailedError when the server streams an `error` object."""
        if data.strip() == _DONE:
            return []
        try:
            chunk = json.loads(data)
        except ValueError:
            return []
        if not isinstance(chunk, dict):
            return []
        error = chunk.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            raise ResponseFailedError(message if isinstance(message, str) else "", retryable=False)
        if not self._response_id and isinstance(chunk.get("id"), str):
            self._response_id = chunk["id"]
        if isinstance(chunk.get("usage"), dict):
            self._usage = Usage.from_wire(chunk["usage"], sent="prompt", received="completion")
        events: list[StepEvent] = []
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                events.extend(self._choice(choice))
        return events

    def _choice(self, choice: dict[str, Any]) -> list[StepEvent]:
        events: list[StepEvent] = []
        delta = choice.get("delta")
        if isinstance(delta, dict):
            content = delta.get("content")
            if isinstance(content, str) and content:
                self._text.append(content)
                events.append(TextDelta(content))
            tool_calls = delta.get("tool_calls")
            for call_delta in tool_calls if isinstance(tool_calls, list) else []:
                if isinstance(call_delta, dict):
                    self._add_call_delta(call_delta)
        if choice.get("finish_reason") and not self._finished:
            self._finished = True
            if self._text:
                events.append(MessageDone("".join(self._text)))
            events.extend(
                FunctionCall(call.call_id, call.name, "".join(call.arguments))
                for _, call in sorted(self._calls.items())
            )
        return events

    def _add_call_delta(self, call_delta: dict[str, Any]) -> None:
        index = call_delta.get("index")
        call = self._calls.setdefault(index if isinstance(index, int) else len(self._calls), _PartialCall())
        if isinstance(call_delta.get("id"), str) and call_delta["id"]:
            call.call_id = call_delta["id"]
        function = call_delta.get("function")
        if isinstance(function, dict):
            if isinstance(function.get("name"), str) and function["name"]:
                call.name = function["name"]
            if isinstance(function.get("arguments"), str):
                call.arguments.append(function["arguments"])
