"""One entry of another host's config -> this host's server config and the user's notes, or a skip reason.

Placeholders are only kept where this host has an equivalent: a variable passed under its own name
(`env_vars`), a header read from a variable (`env_http_headers`, `bearer_token_env_var`). Literal
secrets found in headers or env are imported as they are and noted, so the user can move them out
of the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from app_server.config.editing.sources import ImportContext, ImportSource, SkipError
from app_server.config.servers import HttpServerConfig, McpServerConfig, StdioServerConfig

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_CLAUDE_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(:-.*)?$", re.DOTALL)
_SECRET_NAME = re.compile(r"auth|token|secret|key|passw|cookie|credential", re.IGNORECASE)
_JSON_KEYS = frozenset({"type", "command", "args", "env", "envFile", "cwd", "url", "headers"})
_CODEX_KEYS = (frozenset(StdioServerConfig.model_fields) | frozenset(HttpServerConfig.model_fields)) - {
    "transport"
}


def convert(raw: Any, context: ImportContext) -> tuple[McpServerConfig, list[str]]:
    """The config of `raw` (an entry of `context`'s file) and notes for the user.

    Raises SkipError, with the reason, when the entry does not map onto this host.
    """
    return _CONVERTERS[context.dialect](raw, context)


def _codex_entry(raw: Any, context: ImportContext) -> tuple[McpServerConfig, list[str]]:
    """A Codex `[mcp_servers.NAME]` table uses this host's own keys."""
    if not isinstance(raw, dict):
        raise SkipError("entry is not a table")
    if "bearer_token" in raw:
        raise SkipError(
            "inline `bearer_token` is not supported; put the token in an environment variable "
            "and name it in `bearer_token_env_var`"
        )
    if "command" in raw and "url" in raw:
        raise SkipError("entry has both `command` and `url`")
    data = dict(raw)
    if "startup_timeout_ms" in data:
        milliseconds = data.pop("startup_timeout_ms")
        if not isinstance(milliseconds, int | float) or isinstance(milliseconds, bool):
            raise SkipError("`startup_timeout_ms` is not a number")
        data.setdefault("startup_timeout_sec", milliseconds / 1000)
    notes = [_ignored(key) for key in data if key not in _CODEX_KEYS]
    config = _validated({key: value for key, value in data.items() if key in _CODEX_KEYS})
    return config, notes + _secret_notes(config)


def _json_entry(raw: Any, context: ImportContext) -> tuple[McpServerConfig, list[str]]:
    """A Claude Code, VS Code or Cursor entry: `type`, `command`/`args`/`env` or `url`/`headers`."""
    if not isinstance(raw, dict):
        raise SkipError("entry is not an object")
    kind = raw.get("type")
    if kind == "sse":
        raise SkipError("SSE transport is not supported by this host (only stdio and streamable HTTP)")
    if kind not in (None, "stdio", "http"):
        raise SkipError(f"transport `{kind}` is not supported by this host")
    if kind == "stdio" or (kind is None and "command" in raw):
        data = _stdio_fields(raw, context)
    elif "url" in raw:
        data = _http_fields(raw, context)
    else:
        raise SkipError("entry has neither `command` nor `url`")
    config = _validated(data)
    return config, [_ignored(key) for key in raw if key not in _JSON_KEYS] + _secret_notes(config)


def _stdio_fields(raw: Mapping[str, Any], context: ImportContext) -> dict[str, Any]:
    if "envFile" in raw:
        raise SkipError(
            "`envFile` is not supported; copy its variables into `env` or pass them with env_vars"
        )
    if "url" in raw:
        raise SkipError("entry has both `command` and `url`")
    data: dict[str, Any] = {"command": _literal(_string(raw.get("command"), "command"), "command", context)}
    args = raw.get("args", [])
    if not isinstance(args, list):
        raise SkipError("`args` is not a list")
    data["args"] = [_literal(_string(arg, f"args[{i}]"), f"args[{i}]", context) for i, arg in enumerate(args)]
    env: dict[str, str] = {}
    passed_through: list[str] = []
    for key, value in _string_map(raw.get("env", {}), "env").items():
        reference = _variable_reference(value, context)
        if reference == key:
            passed_through.append(key)
        elif reference is not None:
            raise SkipError(
                f"`env.{key}` takes the value of `${reference}`; only variables passed under their own "
                "name (env_vars) are supported"
            )
        else:
            env[key] = _literal(value, f"env.{key}", context)
    data.update(env=env, env_vars=passed_through)
    if raw.get("cwd") is not None:
        data["cwd"] = str(context.base_dir() / _literal(_string(raw["cwd"], "cwd"), "cwd", context))
    return data


def _http_fields(raw: Mapping[str, Any], context: ImportContext) -> dict[str, Any]:
    if "command" in raw:
        raise SkipError("entry has both `command` and `url`")
    data: dict[str, Any] = {"url": _literal(_string(raw["url"], "url"), "url", context)}
    headers: dict[str, str] = {}
    from_env: dict[str, str] = {}
    for header, value in _string_map(raw.get("headers", {}), "headers").items():
        reference = _variable_reference(value, context)
        bearer = value[len("Bearer ") :] if value.startswith("Bearer ") else None
        bearer_reference = _variable_reference(bearer, context) if bearer is not None else None
        if reference is not None:
            from_env[header] = reference
        elif header.lower() == "authorization" and bearer_reference is not None:
            data["bearer_token_env_var"] = bearer_reference
        else:
            headers[header] = _literal(value, f"headers.{header}", context)
    data.update(http_headers=headers, env_http_headers=from_env)
    return data


def _ignored(key: str) -> str:
    return f"ignored `{key}`, which this host does not support"


def _secret_notes(config: McpServerConfig) -> list[str]:
    """Literal values under secret-looking names: imported as they are, but the user should know."""
    if isinstance(config, StdioServerConfig):
        names, where, instead = config.env, "env", "env_vars"
    else:
        names, where, instead = config.http_headers, "header", "env_http_headers or bearer_token_env_var"
    return [
        f"{where} `{name}` holds a literal secret, now stored in config.toml (prefer {instead})"
        for name in names
        if _SECRET_NAME.search(name)
    ]


def _validated(data: dict[str, Any]) -> McpServerConfig:
    model: type[StdioServerConfig] | type[HttpServerConfig]
    if "command" in data:
        model = StdioServerConfig
    elif "url" in data:
        model = HttpServerConfig
    else:
        raise SkipError("entry has neither `command` nor `url`")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SkipError(f"invalid `{where}`: {first['msg'].lower()}") from None


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise SkipError(f"`{where}` is not a string")
    return value


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise SkipError(f"`{where}` is not an object of strings")
    return value


# -- placeholders ----------------------------------------------------------------------------------


def _variable_reference(value: str, context: ImportContext) -> str | None:
    """The variable named when `value` is exactly one environment placeholder without a default."""
    match = _PLACEHOLDER.fullmatch(value.strip())
    if match is None:
        return None
    body = match.group(1)
    if context.dialect == "claude":
        variable = _CLAUDE_VARIABLE.match(body)
        return variable.group(1) if variable and variable.group(2) is None else None
    return body[len("env:") :] if body.startswith("env:") else None


def _literal(value: str, where: str, context: ImportContext) -> str:
    """`value` with the placeholders known at import time filled in; SkipError if another remains."""

    def fill(match: re.Match[str]) -> str:
        body = match.group(1)
        if context.dialect != "claude" and body in context.constants:
            return context.constants[body]
        if body.startswith("input:"):
            raise SkipError(f"`{where}` uses `{match.group(0)}`, which VS Code prompts for when it starts")
        raise SkipError(f"`{where}` uses `{match.group(0)}`, which cannot be resolved at import time")

    return _PLACEHOLDER.sub(fill, value)


_CONVERTERS: dict[ImportSource, Callable[[Any, ImportContext], tuple[McpServerConfig, list[str]]]] = {
    "codex": _codex_entry,
    "claude": _json_entry,
    "vscode": _json_entry,
    "cursor": _json_entry,
}
