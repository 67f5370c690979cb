"""What a finished tool call tells the model: its MCP content as model inputs, within a size cap.

Text stays text and images become image inputs. What a model cannot take from a function call
(audio, binary blobs) is named in a short placeholder instead of being sent as base64 text.
One result may cost at most `max_chars` characters: a longer one is cut, with a notice of how much
was left out and how to get it (the `read_tool_output` tool, offered while the thread has a cut
result, or asking the tool for less). The thread item keeps the whole result; only the model's
view is cut, the same way every step and after a resume (it is computed from the item each time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app_server.model.step import FunctionTool, InputImage

IMAGE_BUDGET_CHARS = 4_000
"""What one image counts against the cap, whatever its base64 length: about the 1 000 tokens a
detailed image costs a vision model."""


READ_TOOL_OUTPUT = "read_tool_output"


@dataclass(frozen=True, slots=True)
class ModelOutput:
    text: str
    images: tuple[InputImage, ...] = ()
    cut: bool = False
    """Part of the result was left out for the cap."""


def model_output(item: Mapping[str, Any], max_chars: int) -> ModelOutput:
    """The model's view of a finished mcpToolCall item: its error, or its content capped at `max_chars`."""
    whole = whole_output(item)
    return _capped(whole.text, whole.images, max_chars, str(item.get("id", "")))


def whole_output(item: Mapping[str, Any]) -> ModelOutput:
    """A finished mcpToolCall item's error, or all of its content, as model inputs."""
    error = item.get("error")
    if error:
        return ModelOutput(f"error: {error.get('message', 'tool call failed')}")
    result = item.get("result") or {}
    content = [part for part in result.get("content") or [] if isinstance(part, Mapping)]
    texts: list[str] = []
    images: list[InputImage] = []
    has_text = False
    for part in content:
        kind = part.get("type")
        if kind == "image":
            mime = part.get("mimeType") or "image/png"
            images.append(InputImage(f"data:{mime};base64,{part.get('data', '')}"))
            continue
        has_text = has_text or kind == "text" or (kind == "resource" and _resource_text(part) is not None)
        texts.append(_text_of(part))
    if not has_text and result.get("structuredContent") is not None:
        texts.insert(0, json.dumps(result["structuredContent"], ensure_ascii=False))
    elif not content:
        texts.append(json.dumps(result.get("content") or [], ensure_ascii=False))
    return ModelOutput("\n".join(texts), tuple(images))


def _text_of(part: Mapping[str, Any]) -> str:
    """A non-image content block as text: its text, or a placeholder naming what it is."""
    kind = part.get("type")
    if kind == "text":
        return str(part.get("text", ""))
    if kind == "audio":
        size = _decoded_size(part.get("data"))
        return f"[audio: {part.get('mimeType', 'audio')}, {size} bytes, not shown to the model]"
    if kind == "resource":
        text = _resource_text(part)
        if text is not None:
            return text
        resource = part.get("resource") or {}
        size = _decoded_size(resource.get("blob"))
        mime = resource.get("mimeType") or "application/octet-stream"
        uri = resource.get("uri", "")
        return f"[embedded resource {uri} ({mime}), {size} bytes of binary data not shown]"
    if kind == "resource_link":
        name = part.get("title") or part.get("name") or ""
        mime = f" ({part['mimeType']})" if part.get("mimeType") else ""
        return f"[resource link: {name} <{part.get('uri', '')}>{mime}]"
    return json.dumps(dict(part), ensure_ascii=False)


def _resource_text(part: Mapping[str, Any]) -> str | None:
    resource = part.get("resource")
    text = resource.get("text") if isinstance(resource, Mapping) else None
    return text if isinstance(text, str) else None


def _decoded_size(data: object) -> int:
    """Bytes of a base64 payload, without decoding it."""
    if not isinstance(data, str):
        return 0
    return len(data) * 3 // 4 - data[-2:].count("=")


def _capped(text: str, images: tuple[InputImage, ...], max_chars: int, call_id: str) -> ModelOutput:
    """Text first, then as many images as the rest of the budget holds; a notice says what was cut."""
    kept_text = text[:max_chars]
    room = (max_chars - len(kept_text)) // IMAGE_BUDGET_CHARS
    kept_images = tuple(images[:room])
    cut_chars, cut_images = len(text) - len(kept_text), len(images) - len(kept_images)
    if not cut_chars and not cut_images:
        return ModelOutput(text, kept_images)
    left_out = []
    if cut_chars:
        left_out.append(f"{cut_chars:,} of its {len(text):,} characters")
    if cut_images:
        left_out.append(f"{cut_images} of its {len(images)} images")
    read_on = (
        f"call `{READ_TOOL_OUTPUT}` with call_id {json.dumps(call_id)} and offset {len(kept_text)}"
        if cut_chars
        else "call the tool again"
    )
    notice = (
        f"\n\n[This tool result was cut to {max_chars:,} characters (images count "
        f"{IMAGE_BUDGET_CHARS:,} each): {' and '.join(left_out)} were left out. The user sees the "
        f"whole result. To read on, {read_on}, or ask the tool for less at a time (a narrower query, "
        "a range, a page), if it takes such arguments.]"
    )
    return ModelOutput(kept_text + notice, kept_images, cut=True)


def read_tool() -> FunctionTool:
    """The tool that reads on in a result the cap cut, offered while the thread has one."""
    return FunctionTool(
        name=READ_TOOL_OUTPUT,
        description="Read more of a tool result that was cut to fit, from an offset in its text.",
        parameters={
            "type": "object",
            "properties": {
                "call_id": {"type": "string", "description": "The call whose result was cut."},
                "offset": {"type": "integer", "minimum": 0, "description": "Where to read from."},
            },
            "required": ["call_id", "offset"],
        },
    )


def read_on(items: Iterable[Mapping[str, Any]], arguments: Any, cap: Callable[[str], int]) -> str:
    """The next part of a recorded result's text, from `arguments["offset"]`, at most its server's
    cap, with a notice when more remains."""
    call_id = arguments.get("call_id") if isinstance(arguments, dict) else None
    offset = arguments.get("offset") if isinstance(arguments, dict) else None
    item = next((i for i in items if i.get("type") == "mcpToolCall" and i.get("id") == call_id), None)
    if item is None or item.get("status") == "inProgress":
        return "There is no finished tool call with that call_id in this thread."
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return "offset must be a whole number of characters, 0 or more."
    text = whole_output(item).text
    part = text[offset : offset + cap(str(item.get("server", "")))]
    rest = len(text) - offset - len(part)
    if rest <= 0:
        return part
    return (
        f"{part}\n\n[{rest:,} more characters: call `{READ_TOOL_OUTPUT}` with offset {offset + len(part)}.]"
    )
