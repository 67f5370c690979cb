"""Turns one raw `[mcp_servers.NAME]` table (TOML, override or plugin JSON) into a validated server config.

The transport is inferred: `command` means stdio, `url` means streamable HTTP. Every problem is
reported (unknown keys, keys of the other transport, wrong types), not only the first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app_server.config.diagnostics import Diagnostics, validate_strict
from app_server.config.locator import KeyPath
from app_server.config.servers import (
    SERVER_NAME_PATTERN,
    HttpServerConfig,
    McpServerConfig,
    StdioServerConfig,
)

STDIO_KEYS = frozenset({"command", "args", "env", "env_vars", "cwd"})
HTTP_KEYS = frozenset(
    {"url", "bearer_token_env_var", "http_headers", "env_http_headers", "scopes", "oauth_resource", "oauth"}
)
COMMON_KEYS = frozenset(
    {
        "enabled",
        "required",
        "startup_timeout_sec",
        "startup_timeout_ms",
        "tool_timeout_sec",
        "enabled_tools",
        "disabled_tools",
        "default_tools_approval_mode",
        "tools",
        "supports_parallel_tool_calls",
        "tool_output_max_chars",
        "isolation",
        "log_level",
    }
)
_KNOWN_KEYS = STDIO_KEYS | HTTP_KEYS | COMMON_KEYS
_HINTS = {
    "bearer_token": "unknown key; put the token in an environment variable named by `bearer_token_env_var`",
    "transport": "unknown key; the transport follows from `command` (stdio) or `url` (streamable_http)",
}

_STDIO = TypeAdapter(StdioServerConfig)
_HTTP = TypeAdapter(HttpServerConfig)
_NAME = re.compile(SERVER_NAME_PATTERN)


def validate_server_table(
    name: str, table: object, path: KeyPath, diagnostics: Diagnostics
) -> McpServerConfig | None:
    """The server declared by `table` at key path `path`, or None after reporting its problems."""
    failures = len(diagnostics.errors)
    if not _NAME.match(name):
        diagnostics.error(path, "server names may only contain letters, digits, `_` and `-`")
    if not isinstance(table, Mapping):
        diagnostics.error(path, "expected a table")
        return None
    data = _known_keys(table, path, diagnostics)
    if "command" in data:
        transport, own_keys = "stdio", STDIO_KEYS
    elif "url" in data:
        transport, own_keys = "streamable_http", HTTP_KEYS
    else:
        diagnostics.error(path, "expected `command` (stdio) or `url` (streamable_http)")
        return None
    for key in sorted((STDIO_KEYS | HTTP_KEYS) - own_keys):
        if key in data:
            diagnostics.error((*path, key), f"`{key}` is not supported for {transport}")
            del data[key]
    _startup_timeout(data, path, diagnostics)
    try:
        config: McpServerConfig = (
            validate_strict(_STDIO, data) if transport == "stdio" else validate_strict(_HTTP, data)
        )
    except ValidationError as error:
        diagnostics.validation_errors(path, error)
        return None
    return config if len(diagnostics.errors) == failures else None


def _known_keys(table: Mapping[str, Any], path: KeyPath, diagnostics: Diagnostics) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in table.items():
        if key in _KNOWN_KEYS:
            data[key] = value
        else:
            diagnostics.error((*path, key), _HINTS.get(key, "unknown key"))
    return data


def _startup_timeout(data: dict[str, Any], path: KeyPath, diagnostics: Diagnostics) -> None:
    """`startup_timeout_ms` is another spelling of `startup_timeout_sec`; giving both is an error."""
    if "startup_timeout_ms" not in data:
        return
    millis = data.pop("startup_timeout_ms")
    key = (*path, "startup_timeout_ms")
    if "startup_timeout_sec" in data:
        diagnostics.error(key, "give `startup_timeout_sec` or `startup_timeout_ms`, not both")
    elif type(millis) is not int or millis <= 0:
        diagnostics.error(key, "expected a positive integer (milliseconds)")
    else:
        data["startup_timeout_sec"] = millis / 1000
