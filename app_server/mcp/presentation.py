"""What an mcpToolCall item tells a front-end about the tool called, read from its descriptor as Codex
reads it: the `readOnlyHint` annotation, and the MCP App UI resource its `_meta` names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from protocol.items import McpAppUi

if TYPE_CHECKING:
    from app_server.mcp.catalog import ToolRef

_RESOURCE_URI_KEYS = ("ui/resourceUri", "openai/outputTemplate")
"""Flat `_meta` keys naming the UI resource, after `ui.resourceUri` (the MCP Apps spelling)."""


def read_only_hint(ref: ToolRef | None) -> bool | None:
    """The tool's `annotations.readOnlyHint`; None when it gave none (or the tool is unknown)."""
    annotations = ref.definition.get("annotations") if ref is not None else None
    hint = annotations.get("readOnlyHint") if isinstance(annotations, Mapping) else None
    return hint if isinstance(hint, bool) else None


def app_ui(ref: ToolRef | None) -> McpAppUi | None:
    """The UI resource the tool's results are shown with, and how: `fullscreen` only when
    `_meta["openai/ui"].preferredModelDisplayMode` asks for it, else `inline`. None without one."""
    meta = ref.definition.get("_meta") if ref is not None else None
    if not isinstance(meta, Mapping):
        return None
    resource_uri = _text(_get(meta.get("ui"), "resourceUri"))
    for key in _RESOURCE_URI_KEYS:
        resource_uri = resource_uri or _text(meta.get(key))
    if not resource_uri:
        return None
    fullscreen = _text(_get(meta.get("openai/ui"), "preferredModelDisplayMode")) == "fullscreen"
    return McpAppUi(
        resource_uri=resource_uri, preferred_model_display_mode="fullscreen" if fullscreen else "inline"
    )


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
