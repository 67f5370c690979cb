"""The model's view of a thread: its recorded items turned into the history a step sends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app_server.mcp.naming import model_tool_names
from app_server.model.step import AssistantMessage, FunctionCall, FunctionCallOutput, HistoryItem
from app_server.threads.tool_output import model_output
from app_server.threads.user_input import user_message

OutputCap = Callable[[str], int]
"""The character cap of one tool result sent to the model, by the server that returned it."""


@dataclass(frozen=True, slots=True)
class ModelView:
    history: tuple[HistoryItem, ...]
    """Every finished exchange of the thread (its items, in order) as the model saw and answered it."""
    has_cut_results: bool
    """Some tool result was cut for the cap (so the model is offered `read_tool_output`)."""


def model_view(items: Iterable[Mapping[str, Any]], cap: OutputCap) -> ModelView:
    """The thread's recorded items as the model sees them, tool results capped by `cap`."""
    history: list[HistoryItem] = []
    cut = False
    for item in items:
        kind = item.get("type")
        if kind == "userMessage":
            history.append(user_message(item.get("content", [])))
        elif kind == "agentMessage" and item.get("text"):
            history.append(AssistantMessage(item["text"]))
        elif kind == "mcpToolCall" and item.get("status") != "inProgress":
            identity = (str(item["server"]), str(item["tool"]))
            name = model_tool_names([identity])[identity]
            arguments = json.dumps(item.get("arguments") or {}, ensure_ascii=False)
            output = model_output(item, cap(identity[0]))
            cut = cut or output.cut
            history.append(FunctionCall(call_id=item["id"], name=name, arguments=arguments))
            history.append(FunctionCallOutput(call_id=item["id"], output=output.text, images=output.images))
        elif kind == "dynamicToolCall" and item.get("status") != "inProgress":
            arguments = json.dumps(item.get("arguments") or {}, ensure_ascii=False)
            texts = [str(part.get("text", "")) for part in item.get("contentItems") or [] if "text" in part]
            history.append(FunctionCall(call_id=item["id"], name=str(item["tool"]), arguments=arguments))
            history.append(FunctionCallOutput(call_id=item["id"], output="\n".join(texts)))
    return ModelView(tuple(history), cut)
