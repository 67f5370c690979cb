"""Tool results: checked against the result shape and the tool's output schema before passing on."""

from __future__ import annotations

from typing import Any

import pytest

from app_server.errors import McpServerError
from app_server.mcp.server_log import ServerLog
from app_server.mcp.tool_results import ToolResultCheck

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
TOOL = {"name": "count", "inputSchema": {"type": "object"}, "outputSchema": SCHEMA}
TEXT = [{"type": "text", "text": "3"}]


def passthrough(raw: dict[str, Any], definition: dict[str, Any] | None = TOOL) -> dict[str, Any]:
    return ToolResultCheck("s", ServerLog()).passthrough("count", definition, raw)


def test_a_valid_result_passes_with_only_the_four_result_fields() -> None:
    raw = {"content": TEXT, "structuredContent": {"n": 3}, "_meta": {"m": 1}, "extra": "dropped"}
    assert passthrough(raw) == {
        "content": TEXT,
        "structuredContent": {"n": 3},
        "isError": False,
        "_meta": {"m": 1},
    }


@pytest.mark.parametrize(
    ("raw", "definition", "what"),
    [
        ({"content": "not a list"}, None, "an invalid result"),
        ({"content": TEXT}, TOOL, "no structured content, which its output schema requires"),
        (
            {"content": TEXT, "structuredContent": {"n": "3"}},
            TOOL,
            "structured content that does not match its output schema",
        ),
    ],
)
def test_an_answer_that_breaks_the_shape_or_the_schema_is_refused(
    raw: dict[str, Any], definition: dict[str, Any] | None, what: str
) -> None:
    with pytest.raises(McpServerError) as caught:
        passthrough(raw, definition)
    assert caught.value.message == f"MCP server `s` answered `count` with {what}"


def test_an_error_result_is_not_held_to_the_output_schema() -> None:
    raw = {"content": [{"type": "text", "text": "boom"}], "isError": True}
    assert passthrough(raw)["isError"] is True


def test_an_invalid_output_schema_is_reported_as_the_servers_fault() -> None:
    broken = {**TOOL, "outputSchema": {"type": "no-such-type"}}
    with pytest.raises(McpServerError, match="MCP server `s` declares an invalid output schema for `count`"):
        passthrough({"content": TEXT, "structuredContent": {"n": 3}}, broken)
