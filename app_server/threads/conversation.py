"""The model's view of a thread: its recorded items turned into the history a step sends."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from app_server.mcp.naming import model_tool_names
from app_server.model.step import AssistantMessage, FunctionCall, FunctionCallOutput, HistoryItem, UserMessage


def user_text(content: Iterable[Mapping[str, Any]]) -> str:
    """The text of a user message; non-text inputs are named, since the model cannot see the file."""
    parts = []
    for part in content:
        if part.get("type") == "text":
            parts.append(str(part.get("text", "")))
        elif "path" in part:
            parts.append(f"[{part.get('type')}: {part.get('name') or part.get('path')}]")
    return "\n".join(parts)


def tool_output(item: Mapping[str, Any]) -> str:
    """What a finished mcpToolCall item tells the model: its text content, else its JSON, else the error."""
    error = item.get("error")
    if error:
        return f"error: {error.get('message', 'tool call failed')}"
    result = item.get("result") or {}
    texts = [str(part.get("text", "")) for part in result.get("content", []) if part.get("type") == "text"]
    if texts and len(texts) == len(result.get("content", [])):
        return "\n".join(texts)
    if result.get("structuredContent") is not None:
        return json.dumps(result["structuredContent"], ensure_ascii=False)
    return json.dumps(result.get("content", []), ensure_ascii=False)


def history_of(items: Iterable[Mapping[str, Any]]) -> tuple[HistoryItem, ...]:
    """Every finished exchange of the thread (its items, in order) as the model saw and answered it."""
    history: list[HistoryItem] = []
    for item in items:
        kind = item.get("type")
        if kind == "userMessage":
            history.append(UserMessage(user_text(item.get("content", []))))
        elif kind == "agentMessage" and item.get("text"):
            history.append(AssistantMessage(item["text"]))
        elif kind == "mcpToolCall" and item.get("status") != "inProgress":
            identity = (str(item["server"]), str(item["tool"]))
            name = model_tool_names([identity])[identity]
            arguments = json.dumps(item.get("arguments") or {}, ensure_ascii=False)
            history.append(FunctionCall(call_id=item["id"], name=name, arguments=arguments))
            history.append(FunctionCallOutput(call_id=item["id"], output=tool_output(item)))
    return tuple(history)
