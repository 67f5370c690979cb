"""Imports MCP servers declared for other hosts (Codex, Claude Code, VS Code, Cursor) into config.toml.

What maps is imported; what does not is skipped with a reason, never half-imported. Placeholders
are only kept where this host has an equivalent: a variable passed under its own name (`env_vars`),
a header read from a variable (`env_http_headers`, `bearer_token_env_var`). Literal secrets found in
headers or env are imported as they are and reported, so the user can move them out of the file.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import ValidationError

from app_server.config.editing.edits import SERVERS_KEY, add_servers, configured_servers, validate_server_name
from app_server.config.servers import HttpServerConfig, McpServerConfig, StdioServerConfig
from app_server.errors import InvalidParams, RequestFailed

ImportSource = Literal["codex", "claude", "vscode", "cursor"]
SOURCES: tuple[ImportSource, ...] = get_args(ImportSource)

_VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_CLAUDE_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(:-.*)?$", re.DOTALL)
_SECRET_NAME = re.compile(r"auth|token|secret|key|passw|cookie|credential", re.IGNORECASE)
_JSON_KEYS = frozenset({"type", "command", "args", "env", "envFile", "cwd", "url", "headers"})
_CODEX_KEYS = (frozenset(StdioServerConfig.model_fields) | frozenset(HttpServerConfig.model_fields)) - {
    "transport"
}


@dataclass(frozen=True)
class ImportedServer:
    """A server that maps onto this host: its name here, its config, and what the user should know."""

    name: str
    origin: str
    """Where the source declared it, e.g. `mcpServers.github` or `projects./src/app.mcpServers.db`."""
    config: McpServerConfig
    notes: tuple[str, ...] = ()
    replaces_existing: bool = False


@dataclass(frozen=True)
class SkippedServer:
    """A server that was not imported, and why."""

    name: str
    origin: str
    reason: str


@dataclass(frozen=True)
class ImportPlan:
    """What an import does (or, on a dry run, would do)."""

    source: ImportSource
    imported: tuple[ImportedServer, ...]
    skipped: tuple[SkippedServer, ...]


def import_servers(
    path: Path,
    config_path: Path,
    source: ImportSource | Literal["auto"] = "auto",
    *,
    dry_run: bool = False,
    force: bool = False,
    renames: Mapping[str, str] | None = None,
) -> ImportPlan:
    """Import the servers of the file at `path` into `config_path` (nothing is written on a dry run).

    Raises RequestFailed when a file cannot be read or the source format cannot be told, and
    InvalidParams for a bad `renames` entry.
    """
    configured = frozenset(configured_servers(config_path))
    plan = plan_import(path, source, configured, force=force, renames=renames or {})
    if plan.imported and not dry_run:
        add_servers(config_path, {server.name: server.config for server in plan.imported}, replace=force)
    return plan


def plan_import(
    path: Path,
    source: ImportSource | Literal["auto"],
    configured: Collection[str],
    *,
    force: bool = False,
    renames: Mapping[str, str] | None = None,
) -> ImportPlan:
    """Decide, without writing anything, which servers of `path` import under which names and which do not.

    Raises like `import_servers`.
    """
    document = _read_document(path)
    if source == "auto":
        source = detect_source(path, document)
    _require_servers_key(path, source, document)
    context = _Context(path=path, dialect=source, document=document)
    candidates = list(_CANDIDATES[source](context))
    renames = dict(renames or {})
    _check_renames(renames, {candidate.name for candidate in candidates}, path)
    imported: list[ImportedServer] = []
    skipped: list[SkippedServer] = []
    taken: dict[str, str] = {}
    source_names = [candidate.name for candidate in candidates]
    for candidate in candidates:
        name = renames.get(candidate.name, candidate.name)
        try:
            _check_name(name, source_names, taken, configured, force)
            config, notes = _CONVERTERS[source](candidate.raw, context)
        except _SkipError as problem:
            skipped.append(SkippedServer(name=candidate.name, origin=candidate.origin, reason=str(problem)))
            continue
        taken[name] = candidate.origin
        imported.append(
            ImportedServer(
                name=name,
                origin=candidate.origin,
                config=config,
                notes=tuple(notes),
                replaces_existing=name in configured,
            )
        )
    return ImportPlan(source=source, imported=tuple(imported), skipped=tuple(skipped))


def detect_source(path: Path, document: Any) -> ImportSource:
    """Tell the host a config file belongs to from its name and shape; RequestFailed when it cannot."""
    if path.suffix == ".toml":
        return "codex"
    if isinstance(document, dict):
        if "mcpServers" in document or "projects" in document:
            return "cursor" if path.parent.name == ".cursor" or path.name == "mcp.json" else "claude"
        if "servers" in document:
            return "vscode"
    raise RequestFailed(f"cannot tell which host {path.name} belongs to; name it with --from")


def _require_servers_key(path: Path, source: ImportSource, document: Any) -> None:
    """A file without the key its host keeps servers under is the wrong file (or the wrong --from)."""
    keys = _SERVER_KEYS[source]
    if not isinstance(document, dict) or not any(key in document for key in keys):
        wanted = " or ".join(f"`{key}`" for key in keys)
        raise RequestFailed(f"{path.name} has no {wanted}, where {source} keeps its MCP servers")


# -- reading ---------------------------------------------------------------------------------------


class _SkipError(Exception):
    """A source entry that cannot be imported; the message is the reason shown to the user."""


@dataclass(frozen=True)
class _Candidate:
    name: str
    origin: str
    raw: Any


@dataclass
class _Context:
    path: Path
    dialect: ImportSource
    document: Any

    @cached_property
    def constants(self) -> dict[str, str]:
        """The VS Code / Cursor variables known at import time, by placeholder body."""
        known = {"userHome": str(Path.home()), "pathSeparator": "/"}
        workspace = self.workspace()
        if workspace is not None:
            known.update(workspaceFolder=str(workspace), workspaceFolderBasename=workspace.name)
        return known

    def workspace(self) -> Path | None:
        """The project folder of a `.vscode/mcp.json` or `.cursor/mcp.json`, None for a user-level file."""
        folder = self.path.resolve().parent
        return folder.parent if folder.name in (".vscode", ".cursor") else None

    def base_dir(self) -> Path:
        """What a relative `cwd` is relative to."""
        return self.workspace() or self.path.resolve().parent


def _read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RequestFailed(f"cannot import: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RequestFailed(
            f"cannot read {path}: {getattr(error, 'strerror', None) or 'not UTF-8 text'}"
        ) from None
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise RequestFailed(f"{path} is not valid TOML ({error})") from None
    try:
        return json.loads(_without_jsonc_extras(text))
    except json.JSONDecodeError as error:
        raise RequestFailed(f"{path} is not valid JSON (line {error.lineno}, column {error.colno})") from None


def _without_jsonc_extras(text: str) -> str:
    """VS Code's mcp.json is JSONC: drop `//` and `/* */` comments and trailing commas, strings untouched."""
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == '"':
            end = position + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[position : end + 1])
            position = end + 1
        elif text.startswith("//", position):
            newline = text.find("\n", position)
            position = len(text) if newline < 0 else newline
        elif text.startswith("/*", position):
            close = text.find("*/", position + 2)
            position = len(text) if close < 0 else close + 2
        else:
            out.append(char)
            position += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def _servers_map(container: Any, key: str, where: str) -> Iterator[tuple[str, Any]]:
    servers = container.get(key) if isinstance(container, dict) else None
    if servers is None:
        return
    if not isinstance(servers, dict):
        raise RequestFailed(f"`{where}` is not an object of servers")
    yield from servers.items()


def _codex_candidates(context: _Context) -> Iterator[_Candidate]:
    for name, raw in _servers_map(context.document, SERVERS_KEY, SERVERS_KEY):
        yield _Candidate(name=name, origin=f"{SERVERS_KEY}.{name}", raw=raw)


def _claude_candidates(context: _Context) -> Iterator[_Candidate]:
    """`.mcp.json` holds `mcpServers`; `~/.claude.json` adds per-project ones under `projects.<path>`."""
    for name, raw in _servers_map(context.document, "mcpServers", "mcpServers"):
        yield _Candidate(name=name, origin=f"mcpServers.{name}", raw=raw)
    projects = context.document.get("projects") if isinstance(context.document, dict) else None
    for project, settings in (projects or {}).items():
        where = f"projects.{project}.mcpServers"
        for name, raw in _servers_map(settings, "mcpServers", where):
            yield _Candidate(name=name, origin=f"{where}.{name}", raw=raw)


def _vscode_candidates(context: _Context) -> Iterator[_Candidate]:
    for name, raw in _servers_map(context.document, "servers", "servers"):
        yield _Candidate(name=name, origin=f"servers.{name}", raw=raw)


def _cursor_candidates(context: _Context) -> Iterator[_Candidate]:
    for name, raw in _servers_map(context.document, "mcpServers", "mcpServers"):
        yield _Candidate(name=name, origin=f"mcpServers.{name}", raw=raw)


# -- names -----------------------------------------------------------------------------------------


def _check_renames(renames: Mapping[str, str], source_names: set[str], path: Path) -> None:
    for old, new in renames.items():
        if old not in source_names:
            raise InvalidParams(f"--rename: {path.name} declares no server named `{old}`")
        validate_server_name(new)


def _check_name(
    name: str,
    source_names: list[str],
    taken: Mapping[str, str],
    configured: Collection[str],
    force: bool,
) -> None:
    if not _VALID_NAME.match(name):
        raise _SkipError(_invalid_name_reason(name, source_names, configured))
    if name in taken:
        raise _SkipError(f"`{name}` is already imported from {taken[name]}")
    if name in configured and not force:
        raise _SkipError("a server with this name is already configured (use --force to replace it)")


def _invalid_name_reason(name: str, source_names: list[str], configured: Collection[str]) -> str:
    """Offer a sanitised name only when nothing else in the source or the config could claim it."""
    reason = "invalid server name (use letters, digits, `_` and `-`)"
    suggestion = re.sub(r"[^a-zA-Z0-9_-]+", "_", name).strip("_")
    rivals = {re.sub(r"[^a-zA-Z0-9_-]+", "_", other).strip("_") for other in source_names if other != name}
    if suggestion and suggestion not in rivals and suggestion not in configured:
        return f"{reason}; import it as `{suggestion}` with --rename '{name}={suggestion}'"
    return f"{reason}; choose one with --rename '{name}=NEW_NAME'"


# -- conversion ------------------------------------------------------------------------------------


def _codex_entry(raw: Any, context: _Context) -> tuple[McpServerConfig, list[str]]:
    """A Codex `[mcp_servers.NAME]` table uses this host's own keys."""
    if not isinstance(raw, dict):
        raise _SkipError("entry is not a table")
    if "bearer_token" in raw:
        raise _SkipError(
            "inline `bearer_token` is not supported; put the token in an environment variable "
            "and name it in `bearer_token_env_var`"
        )
    if "command" in raw and "url" in raw:
        raise _SkipError("entry has both `command` and `url`")
    data = dict(raw)
    if "startup_timeout_ms" in data:
        milliseconds = data.pop("startup_timeout_ms")
        if not isinstance(milliseconds, int | float) or isinstance(milliseconds, bool):
            raise _SkipError("`startup_timeout_ms` is not a number")
        data.setdefault("startup_timeout_sec", milliseconds / 1000)
    notes = [_ignored(key) for key in data if key not in _CODEX_KEYS]
    config = _validated({key: value for key, value in data.items() if key in _CODEX_KEYS})
    return config, notes + _secret_notes(config)


def _json_entry(raw: Any, context: _Context) -> tuple[McpServerConfig, list[str]]:
    """A Claude Code, VS Code or Cursor entry: `type`, `command`/`args`/`env` or `url`/`headers`."""
    if not isinstance(raw, dict):
        raise _SkipError("entry is not an object")
    kind = raw.get("type")
    if kind == "sse":
        raise _SkipError("SSE transport is not supported by this host (only stdio and streamable HTTP)")
    if kind not in (None, "stdio", "http"):
        raise _SkipError(f"transport `{kind}` is not supported by this host")
    if kind == "stdio" or (kind is None and "command" in raw):
        data = _stdio_fields(raw, context)
    elif "url" in raw:
        data = _http_fields(raw, context)
    else:
        raise _SkipError("entry has neither `command` nor `url`")
    config = _validated(data)
    return config, [_ignored(key) for key in raw if key not in _JSON_KEYS] + _secret_notes(config)


def _stdio_fields(raw: Mapping[str, Any], context: _Context) -> dict[str, Any]:
    if "envFile" in raw:
        raise _SkipError(
            "`envFile` is not supported; copy its variables into `env` or pass them with env_vars"
        )
    if "url" in raw:
        raise _SkipError("entry has both `command` and `url`")
    data: dict[str, Any] = {"command": _literal(_string(raw.get("command"), "command"), "command", context)}
    args = raw.get("args", [])
    if not isinstance(args, list):
        raise _SkipError("`args` is not a list")
    data["args"] = [_literal(_string(arg, f"args[{i}]"), f"args[{i}]", context) for i, arg in enumerate(args)]
    env: dict[str, str] = {}
    passed_through: list[str] = []
    for key, value in _string_map(raw.get("env", {}), "env").items():
        reference = _variable_reference(value, context)
        if reference == key:
            passed_through.append(key)
        elif reference is not None:
            raise _SkipError(
                f"`env.{key}` takes the value of `${reference}`; only variables passed under their own "
                "name (env_vars) are supported"
            )
        else:
            env[key] = _literal(value, f"env.{key}", context)
    data.update(env=env, env_vars=passed_through)
    if raw.get("cwd") is not None:
        data["cwd"] = str(context.base_dir() / _literal(_string(raw["cwd"], "cwd"), "cwd", context))
    return data


def _http_fields(raw: Mapping[str, Any], context: _Context) -> dict[str, Any]:
    if "command" in raw:
        raise _SkipError("entry has both `command` and `url`")
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
        raise _SkipError("entry has neither `command` nor `url`")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise _SkipError(f"invalid `{where}`: {first['msg'].lower()}") from None


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _SkipError(f"`{where}` is not a string")
    return value


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise _SkipError(f"`{where}` is not an object of strings")
    return value


# -- placeholders ----------------------------------------------------------------------------------


def _variable_reference(value: str, context: _Context) -> str | None:
    """The variable named when `value` is exactly one environment placeholder without a default."""
    match = _PLACEHOLDER.fullmatch(value.strip())
    if match is None:
        return None
    body = match.group(1)
    if context.dialect == "claude":
        variable = _CLAUDE_VARIABLE.match(body)
        return variable.group(1) if variable and variable.group(2) is None else None
    return body[len("env:") :] if body.startswith("env:") else None


def _literal(value: str, where: str, context: _Context) -> str:
    """`value` with the placeholders known at import time filled in; _SkipError if another remains."""

    def fill(match: re.Match[str]) -> str:
        body = match.group(1)
        if context.dialect != "claude" and body in context.constants:
            return context.constants[body]
        if body.startswith("input:"):
            raise _SkipError(f"`{where}` uses `{match.group(0)}`, which VS Code prompts for when it starts")
        raise _SkipError(f"`{where}` uses `{match.group(0)}`, which cannot be resolved at import time")

    return _PLACEHOLDER.sub(fill, value)


_SERVER_KEYS: dict[ImportSource, tuple[str, ...]] = {
    "codex": (SERVERS_KEY,),
    "claude": ("mcpServers", "projects"),
    "vscode": ("servers",),
    "cursor": ("mcpServers",),
}
_CANDIDATES: dict[ImportSource, Callable[[_Context], Iterator[_Candidate]]] = {
    "codex": _codex_candidates,
    "claude": _claude_candidates,
    "vscode": _vscode_candidates,
    "cursor": _cursor_candidates,
}
_CONVERTERS: dict[ImportSource, Callable[[Any, _Context], tuple[McpServerConfig, list[str]]]] = {
    "codex": _codex_entry,
    "claude": _json_entry,
    "vscode": _json_entry,
    "cursor": _json_entry,
}
