"""Whether an MCP tool call needs the user's approval, and the elicitation that asks for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app_server.config.servers import HttpServerConfig, StdioServerConfig
from protocol.server_requests import McpServerElicitationRequestParams

APPROVAL_KIND = "mcp_tool_call"
NEVER_ASK_MESSAGE = "MCP tool call requires approval, but approval policy is never"


def needs_approval(
    config: StdioServerConfig | HttpServerConfig, tool: str, annotations: Mapping[str, Any] | None
) -> bool:
    """Per-tool `approval_mode` > the server's `default_tools_approval_mode` > `auto`.

    `approve` never asks and `prompt` always does. `auto` asks unless the tool says it is read-only
    or explicitly not destructive (MCP's `destructiveHint` defaults to true, so a tool without
    annotations is treated as destructive); `writes` asks unless the tool is read-only.
    """
    tool_config = config.tools.get(tool)
    mode = (
        (tool_config.approval_mode if tool_config else None) or config.default_tools_approval_mode or "auto"
    )
    if mode == "approve":
        return False
    if mode == "prompt":
        return True
    hints = annotations or {}
    if hints.get("readOnlyHint") is True:
        return False
    return mode == "writes" or hints.get("destructiveHint") is not False


def policy_never_asks(approval_policy: object) -> bool:
    """`never` means a call that needs approval fails instead of asking."""
    return approval_policy == "never"


def approval_request(
    *,
    thread_id: str,
    turn_id: str,
    server: str,
    tool: str,
    arguments: Any,
    description: str | None,
    connector_id: str | None = None,
) -> McpServerElicitationRequestParams:
    """`mcpServer/elicitation/request` params in the shape Codex front-ends recognise as a tool approval."""
    meta: dict[str, Any] = {"codex_approval_kind": APPROVAL_KIND, "tool_name": tool, "tool_params": arguments}
    if description:
        meta["tool_description"] = description
    if connector_id:
        meta["connector_id"] = connector_id
    return McpServerElicitationRequestParams(
        thread_id=thread_id,
        turn_id=turn_id,
        server_name=server,
        mode="form",
        message=f'Allow the {server} MCP server to run tool "{tool}"?',
        requested_schema={"type": "object", "properties": {}},
        meta=meta,
    )
