"""One named MCP server in a view, with the provenance that says why it is there."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from app_server.config.servers import McpServerConfig

ProvenanceSource = Literal["config", "plugin", "contributor", "builtin"]


class Provenance(BaseModel):
    """Where an entry was declared and which contributor or gating rule last changed it."""

    model_config = ConfigDict(frozen=True)

    source: ProvenanceSource
    file: str | None = None
    """The config file (or `-c` override / thread config) that declared it."""
    key: str | None = None
    """The key that declared it, e.g. `mcp_servers.docs`."""
    plugin_id: str | None = None
    contributor: str | None = None
    gating: str | None = None
    """The rule that kept, changed or added the entry (e.g. "kept disabled: ...")."""


class ServerEntry(BaseModel):
    """A server of one view: its name, exact config (secrets hidden from repr) and provenance."""

    model_config = ConfigDict(frozen=True)

    name: str
    config: McpServerConfig
    provenance: Provenance
