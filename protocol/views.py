"""Wire types of our extension `mcpServer/views/read`: the configured, runtime and effective server views."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.fields import JsonObject, Omittable
from protocol.mcp import McpServerProcess

ProvenanceSource = Literal["config", "plugin", "contributor", "builtin"]

ServerTransport = Literal["stdio", "streamable_http"]


class McpServerProvenance(WireModel):
    """Why an entry is in a view: where it was declared and what changed or gated it."""

    source: ProvenanceSource
    file: Omittable[str] = None
    """The config file that declared it, when it came from one."""
    key: Omittable[str] = None
    """The config key, e.g. `mcp_servers.docs`."""
    plugin_id: Omittable[str] = None
    contributor: Omittable[str] = None
    gating: Omittable[str] = None
    """The rule that kept or added the entry in the effective view (e.g. apps feature + ChatGPT auth)."""


class McpServerViewEntry(WireModel):
    name: str
    transport: ServerTransport
    enabled: bool
    config: JsonObject
    """The server's config with secret values (tokens, header and env values) redacted."""
    provenance: McpServerProvenance


class McpServerViewsReadParams(WireModel):
    thread_id: str | None = None
    """Resolve against this thread's context instead of the app-level one."""


class McpServerViewsReadResponse(WireModel):
    configured: list[McpServerViewEntry]
    runtime: list[McpServerViewEntry]
    effective: list[McpServerViewEntry]
    processes: list[McpServerProcess] = Field(default_factory=list)
    """Every live MCP connection of the daemon and the scopes sharing it, by server then id."""
