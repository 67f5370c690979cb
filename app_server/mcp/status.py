"""Status entries of `mcpServerStatus/list`: a `McpServerStatus` per server, read from its connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from app_server.config.servers import HttpServerConfig
from app_server.mcp.client import McpConnection, ServerConfig, http_origin
from app_server.mcp.runtime import ServerSlot
from protocol.mcp import McpServerProcess, McpServerStatus

StatusDetail = Literal["full", "toolsAndAuthOnly"]
AuthStatusProvider = Callable[[str, ServerConfig], str]
"""(server name, config) -> McpAuthStatus: unknown | unsupported | notLoggedIn | bearerToken | oAuth."""

_RUNTIME_STATUS = {"starting": "starting", "ready": "connected", "failed": "failed", "cancelled": "cancelled"}


def default_auth_status(_name: str, config: ServerConfig) -> str:
    """Without an OAuth layer: `bearerToken` when a bearer token variable is set up, else `unsupported`."""
    if isinstance(config, HttpServerConfig) and config.bearer_token_env_var is not None:
        return "bearerToken"
    return "unsupported"


def runtime_status(connection: McpConnection | None) -> str:
    if connection is None:
        return "disabled"
    if connection.state == "failed" and connection.auth_required:
        return "authenticationRequired"
    return _RUNTIME_STATUS[connection.state]


def status_entry(
    slot: ServerSlot, detail: StatusDetail, auth_status: str, process: McpServerProcess | None
) -> McpServerStatus:
    """The wire entry of one server, read from its live connection (never starts anything)."""
    connection = slot.connection
    catalog = connection.catalog if connection is not None and connection.state == "ready" else None
    full = detail == "full"
    origin = http_origin(slot.config.url) if isinstance(slot.config, HttpServerConfig) else None
    tools_error = None
    if connection is not None and connection.state != "ready":
        tools_error = connection.error or f"MCP server `{slot.name}` is {connection.state}"
    return McpServerStatus.model_validate(
        {
            "name": slot.name,
            "runtime_status": runtime_status(connection),
            "plugin_id": slot.plugin_id,
            "http_origin": origin,
            "server_info": connection.server_info if connection is not None else None,
            "server_capabilities": connection.server_capabilities if connection is not None else None,
            "tool_list_meta": catalog.tool_list_meta if catalog is not None else None,
            "tools": dict(catalog.tools) if catalog is not None else {},
            "tools_error": tools_error,
            "resources": list(catalog.resources) if catalog is not None and full else [],
            "resource_templates": list(catalog.resource_templates) if catalog is not None and full else [],
            "auth_status": auth_status,
            "process": process,
        }
    )
