"""The tool search: what a step advertises when its catalog is too large to send whole.

Past `tool_search_threshold` tools, a step advertises one tool, `tool_search`, and the tools the
model has found with it earlier in the same turn. A search runs over the index of the runtime its
step leased (pinning holds); what it finds is advertised from the next step on, from that step's
own runtime (a tool gone by then is simply not offered).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from typing import Any

from app_server.mcp.catalog import ToolRef
from app_server.model.step import FunctionTool

TOOL_SEARCH = "tool_search"
DEFAULT_LIMIT = 8
MAX_LIMIT = 20
_WORD = re.compile(r"[a-z0-9]+")


def search_tool(catalog_size: int) -> FunctionTool:
    return FunctionTool(
        name=TOOL_SEARCH,
        description=(
            f"Find tools by what you need among the {catalog_size} available. The tools found are "
            "offered to you from your next step on; search again for other needs."
        ),
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Words describing the task or the tool."},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
            "required": ["query"],
        },
    )


def _description(ref: ToolRef) -> str:
    return str(ref.definition.get("description") or ref.definition.get("title") or "")


def search(index: Mapping[str, ToolRef], arguments: Any) -> list[str]:
    """Model-facing names of the tools best matching `arguments["query"]`: every query word found in
    the server or tool name counts three, in the description one; ties go by name."""
    query = arguments.get("query") if isinstance(arguments, dict) else None
    limit = arguments.get("limit") if isinstance(arguments, dict) else None
    terms = _WORD.findall(str(query or "").lower())
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        limit = DEFAULT_LIMIT
    scored = []
    for name, ref in index.items():
        names = f"{ref.server} {ref.tool}".lower()
        description = _description(ref).lower()
        score = sum(3 * (term in names) + (term in description) for term in terms)
        if score:
            scored.append((-score, name))
    return [name for _, name in sorted(scored)[:limit]]


def found_text(index: Mapping[str, ToolRef], found: list[str]) -> str:
    """The search's answer to the model."""
    if not found:
        return "No tool matches; search again with other words."
    lines = [f"- {name}: {_description(index[name])}" for name in found]
    return "Tools found (offered from your next step on):\n" + "\n".join(lines)


def advertised(index: Mapping[str, ToolRef], threshold: int, found: Set[str]) -> tuple[FunctionTool, ...]:
    """The whole catalog when it has at most `threshold` tools; else the search and the tools found."""
    if len(index) <= threshold:
        return function_tools(index)
    return (search_tool(len(index)), *function_tools({name: index[name] for name in index if name in found}))


def function_tools(index: Mapping[str, ToolRef]) -> tuple[FunctionTool, ...]:
    """The runtime's tools as flat function tools under their model-facing names."""
    return tuple(
        FunctionTool(name=name, description=_description(ref), parameters=_parameters(ref))
        for name, ref in index.items()
    )


def _parameters(ref: ToolRef) -> dict[str, Any]:
    schema = ref.definition.get("inputSchema")
    return schema if isinstance(schema, dict) else {"type": "object", "properties": {}}
