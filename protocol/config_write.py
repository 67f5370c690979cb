"""Wire types of `config/value/write` and `config/batchWrite`: edits of the user's config.toml."""

from __future__ import annotations

from typing import Literal

from protocol.base import WireModel
from protocol.config_layers import ConfigLayerMetadata
from protocol.fields import JsonValue

MergeStrategy = Literal["replace", "upsert"]
"""`replace` sets the value; `upsert` merges a table into the table already there, key by key."""

WriteStatus = Literal["ok", "okOverridden"]

ConfigWriteErrorCode = Literal[
    "configLayerReadonly",
    "configVersionConflict",
    "configValidationError",
    "configPathNotFound",
    "configSchemaUnknownKey",
    "userLayerNotFound",
]
"""`data.config_write_error_code` of a refused write (the reference's names)."""


class ConfigEdit(WireModel):
    key_path: str
    """A dotted TOML key path; quoted segments may hold dots (`mcp_servers."my.server".command`)."""
    value: JsonValue
    """The new value as JSON; `null` removes the key."""
    merge_strategy: MergeStrategy


class ConfigValueWriteParams(ConfigEdit):
    """Set or remove one key of config.toml, comments and layout kept (no reload)."""

    file_path: str | None = None
    """Must be the user's config.toml when given (the default)."""
    expected_version: str | None = None
    """The file's `version` as last read; the write is refused if the file changed since."""


class ConfigBatchWriteParams(WireModel):
    """Apply several edits to config.toml at once, all or none, optionally reloading MCP servers."""

    edits: list[ConfigEdit]
    file_path: str | None = None
    expected_version: str | None = None
    reload_user_config: bool = False
    """After writing, apply the MCP server changes as `config/mcpServer/reload` does."""


class OverriddenMetadata(WireModel):
    message: str
    overriding_layer: ConfigLayerMetadata
    effective_value: JsonValue


class ConfigWriteResponse(WireModel):
    status: WriteStatus
    version: str
    """The file's version after the write."""
    file_path: str
    """Canonical absolute path of the file written."""
    overridden_metadata: OverriddenMetadata | None
