"""Wire types of MCP server inventory and the `mcpServerStatus/list`, `mcpServer/*` and reload methods."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.fields import JsonObject, JsonValue, MetaField, Omittable

McpAuthStatus = Literal["unknown", "unsupported", "notLoggedIn", "bearerToken", "oAuth"]

McpServerConnectionStatus = Literal[
    "notStarted", "starting", "connected", "authenticationRequired", "failed", "cancelled", "disabled"
]

McpServerStatusDetail = Literal["full", "toolsAndAuthOnly"]

McpServerOauthClientRegistration = Literal["auto", "cimd", "dcr"]


class Tool(WireModel):
    """A tool as its MCP server advertised it (raw name, raw schemas)."""

    name: str
    input_schema: JsonValue
    title: Omittable[str] = None
    description: Omittable[str] = None
    icons: Omittable[list[JsonValue]] = None
    annotations: Omittable[JsonValue] = None
    output_schema: Omittable[JsonValue] = None
    meta: MetaField = None


class Resource(WireModel):
    name: str
    uri: str
    title: Omittable[str] = None
    description: Omittable[str] = None
    mime_type: Omittable[str] = None
    size: Omittable[int] = None
    icons: Omittable[list[JsonValue]] = None
    annotations: Omittable[JsonValue] = None
    meta: MetaField = None


class ResourceTemplate(WireModel):
    name: str
    uri_template: str
    title: Omittable[str] = None
    description: Omittable[str] = None
    mime_type: Omittable[str] = None
    annotations: Omittable[JsonValue] = None


class TextResourceContent(WireModel):
    uri: str
    text: str
    mime_type: Omittable[str] = None
    meta: MetaField = None


class BlobResourceContent(WireModel):
    uri: str
    blob: str
    """Base64-encoded bytes."""
    mime_type: Omittable[str] = None
    meta: MetaField = None


ResourceContent = TextResourceContent | BlobResourceContent
"""Told apart by which of `text` / `blob` is present."""


class McpServerInfo(WireModel):
    """Presentation metadata the server sent in its `initialize` result."""

    name: str
    version: str
    title: str | None = None
    description: str | None = None
    icons: list[JsonValue] | None = None
    website_url: str | None = None


class McpServerProcess(WireModel):
    """*Extension* (not in Codex v2): the connection that serves a server, and every scope sharing it.

    One connection (one process, for a stdio server) serves every scope that needs the server with
    the same config and context; `isolation = "thread"` in its config gives each scope its own.
    """

    server: str
    connection_id: str
    pid: int | None = None
    """The stdio server's process id; None for HTTP servers and before it has started."""
    isolation: Literal["shared", "thread"]
    app_level: bool
    """Whether the app level (threadless requests) uses this connection."""
    thread_ids: list[str] = Field(default_factory=list)
    """The loaded threads whose current runtime uses it."""


class McpServerStatus(WireModel):
    name: str
    auth_status: McpAuthStatus
    tools: dict[str, Tool] = Field(default_factory=dict)
    """Keyed by the tool's raw name."""
    resources: list[Resource] = Field(default_factory=list)
    resource_templates: list[ResourceTemplate] = Field(default_factory=list)
    http_origin: str | None = None
    plugin_id: str | None = None
    runtime_status: McpServerConnectionStatus | None = None
    server_capabilities: JsonValue = None
    """Null when unavailable (the server is not connected)."""
    server_info: McpServerInfo | None = None
    tool_list_meta: JsonValue = None
    """Null when unavailable."""
    tools_error: str | None = None
    process: Omittable[McpServerProcess] = None
    """*Extension*: which connection serves this server and which scopes share it (None: disabled)."""


class ListMcpServerStatusParams(WireModel):
    cursor: str | None = None
    detail: McpServerStatusDetail | None = None
    limit: int | None = Field(default=None, ge=0)
    """A page size; 0 is served as 1, as Codex does."""
    server_name: str | None = None
    thread_id: str | None = None


class ListMcpServerStatusResponse(WireModel):
    data: list[McpServerStatus]
    next_cursor: str | None = None


class McpServerRefreshResponse(WireModel):
    """Empty object: the reload was scheduled; new servers apply from the next model step."""


class McpResourceReadTarget(WireModel):
    connector_id: str
    link_id: str | None
    """`null` explicitly asks for no-auth access."""


class McpResourceReadParams(WireModel):
    server: str
    uri: str
    thread_id: str | None = None
    connector_id: str | None = None
    origin_call_id: str | None = None
    target: McpResourceReadTarget | None = None
    meta: JsonObject | None = Field(default=None, alias="_meta")


class McpResourceReadResponse(WireModel):
    contents: list[ResourceContent]
    origin_call_id: str | None = None


class McpServerToolCallParams(WireModel):
    """Call one tool directly. `threadId` is optional here (an extension): without it the call
    goes to the app-level runtime."""

    server: str
    tool: str
    thread_id: str | None = None
    arguments: Omittable[JsonValue] = None
    meta: MetaField = None


class McpServerToolCallResponse(WireModel):
    content: list[JsonValue]
    is_error: Omittable[bool] = None
    structured_content: Omittable[JsonValue] = None
    meta: MetaField = None


class McpServerOauthLoginParams(WireModel):
    name: str
    client_registration: McpServerOauthClientRegistration | None = None
    scopes: list[str] | None = None
    thread_id: str | None = None
    timeout_secs: int | None = Field(default=None, ge=1)


class McpServerOauthLoginResponse(WireModel):
    authorization_url: str
    login_id: Omittable[str] = None
