"""Adds and removes `[mcp_servers.NAME]` entries in config.toml, and approves their tools, leaving
every other byte as it was.

New entries are appended as a `[mcp_servers.NAME]` table at the end of the file; a tool approved
"always" gets a `[mcp_servers.NAME.tools.TOOL]` table right after its server's tables (or a key in
the inline table that already holds the server or its tools). Removal cuts the
entry's header tables out of the text (a comment block directly above the next header belongs to that
header and stays); entries written as dotted keys or inline tables are removed through tomlkit. Every
edit is checked by re-reading the result: it must equal the old settings with only that entry changed.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Concatenate, ParamSpec

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import InlineTable

from app_server.config.editing.lock import config_lock
from app_server.config.servers import SERVER_NAME_PATTERN, HttpServerConfig, McpServerConfig
from app_server.errors import InvalidParams, RequestFailed

P = ParamSpec("P")
SERVERS_KEY = "mcp_servers"
_NAME = re.compile(SERVER_NAME_PATTERN)
_INLINE_FIELDS = frozenset({"env", "http_headers", "env_http_headers", "tools", "oauth"})
"""Map-valued fields, written as inline tables so an entry stays one `[mcp_servers.NAME]` table."""


def validate_server_name(name: str) -> None:
    """Raise InvalidParams unless `name` may name a server (letters, digits, `_`, `-`)."""
    if not _NAME.match(name):
        raise InvalidParams(f"invalid server name `{name}`: use only letters, digits, `_` and `-`")


def server_table(config: McpServerConfig) -> dict[str, Any]:
    """The TOML keys of `config`: only non-default values, and no `transport` (it follows from the keys)."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    data.pop("transport", None)
    secret = config.oauth.client_secret if isinstance(config, HttpServerConfig) and config.oauth else None
    if secret is not None:  # dumped masked; the file keeps the value
        data["oauth"]["client_secret"] = secret.get_secret_value()
    return data


def _locked(edit: Callable[Concatenate[Path, P], None]) -> Callable[Concatenate[Path, P], None]:
    """Run a read-modify-write of config.toml under its inter-process lock."""

    @functools.wraps(edit)
    def locked(config_path: Path, /, *args: P.args, **kwargs: P.kwargs) -> None:
        with config_lock(config_path.parent):
            edit(config_path, *args, **kwargs)

    return locked


def configured_servers(config_path: Path) -> dict[str, Any]:
    """The raw `[mcp_servers]` tables of `config_path` (empty when the file does not exist).

    Raises RequestFailed when the file is not valid TOML or `mcp_servers` is not a table.
    """
    return _servers_of(_parse(_read(config_path)))


@_locked
def add_servers(config_path: Path, servers: Mapping[str, McpServerConfig], *, replace: bool = False) -> None:
    """Write `servers` into `config_path`, creating it (and its folder, private) when missing.

    An existing entry of the same name is replaced (moved to the end) when `replace` is set; otherwise
    RequestFailed is raised and nothing is written.
    """
    for name in servers:
        validate_server_name(name)
    text = _read(config_path)
    data = _parse(text)
    existing = _servers_of(data)
    clashes = [name for name in servers if name in existing]
    if clashes and not replace:
        raise RequestFailed(f"server `{clashes[0]}` is already configured; use --force to replace it")
    for name in clashes:
        text = _without_server(text, name)
    for name, config in servers.items():
        text = _with_server(text, name, server_table(config))
    _check(text, data, {**existing, **{name: server_table(config) for name, config in servers.items()}})
    write_atomically(config_path, text)


@_locked
def remove_server(config_path: Path, name: str) -> None:
    """Delete the entry `name` from `config_path`, whichever TOML form declares it.

    Raises RequestFailed when no such server is configured.
    """
    text = _read(config_path)
    data = _parse(text)
    existing = _servers_of(data)
    if name not in existing:
        raise RequestFailed(f"no server named `{name}` is configured")
    text = _without_server(text, name)
    _check(text, data, {key: value for key, value in existing.items() if key != name})
    write_atomically(config_path, text)


@_locked
def approve_tool(config_path: Path, server: str, tool: str) -> None:
    """Set `approval_mode = "approve"` for `tool` of the configured server `server` (Codex's "always
    allow"); nothing is written when it is already set.

    Raises RequestFailed when config.toml does not declare the server or cannot be edited cleanly.
    """
    text = _read(config_path)
    data = _parse(text)
    existing = _servers_of(data)
    entry = existing.get(server)
    if not isinstance(entry, dict):
        raise RequestFailed(f"MCP server `{server}` is not configured in config.toml")
    servers = copy.deepcopy(existing)
    tools = servers[server].setdefault("tools", {})
    if not isinstance(tools, dict) or not isinstance(tools.setdefault(tool, {}), dict):
        raise RequestFailed(f"`tools` of MCP server `{server}` in config.toml is not a table")
    tools[tool]["approval_mode"] = "approve"
    if servers == existing:
        return
    lines = text.splitlines(keepends=True)
    paths = [path for _line, path in _header_lines(lines)]
    tools_in_headers = "tools" not in entry or any(
        path[:3] == (SERVERS_KEY, server, "tools") for path in paths
    )
    if (SERVERS_KEY, server) in paths and tool not in entry.get("tools", {}) and tools_in_headers:
        section = tomlkit.dumps({SERVERS_KEY: {server: {"tools": {tool: {"approval_mode": "approve"}}}}})
        text = _insert_section(lines, (SERVERS_KEY, server), section)
    else:
        text = _with_tool_approved(text, server, tool)
    _check(text, data, servers)
    write_atomically(config_path, text)


def _with_tool_approved(text: str, server: str, tool: str) -> str:
    """`text` with the tool approved through tomlkit, in whatever tables already hold it."""
    document = tomlkit.parse(text)
    try:
        entry = document[SERVERS_KEY][server]
        if "tools" not in entry:
            entry["tools"] = tomlkit.inline_table()
        tools = entry["tools"]
        if tool not in tools:
            tools[tool] = tomlkit.inline_table() if isinstance(tools, InlineTable) else tomlkit.table()
        tools[tool]["approval_mode"] = "approve"
    except (KeyError, TypeError, TOMLKitError):
        raise RequestFailed(
            f"the tools of MCP server `{server}` are declared in a form that cannot be edited safely; "
            "edit config.toml by hand"
        ) from None
    return document.as_string()


def _read(config_path: Path) -> str:
    try:
        return config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _parse(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RequestFailed(f"config.toml is not valid TOML ({error}); fix it before editing") from None


def _servers_of(data: Mapping[str, Any]) -> dict[str, Any]:
    servers = data.get(SERVERS_KEY, {})
    if not isinstance(servers, dict):
        raise RequestFailed(f"`{SERVERS_KEY}` in config.toml is not a table; fix it before editing")
    return servers


def _with_server(text: str, name: str, table: Mapping[str, Any]) -> str:
    document = tomlkit.parse(text)
    if isinstance(document.get(SERVERS_KEY), InlineTable):
        # `[mcp_servers.NAME]` may not extend an inline table: insert into it instead.
        document[SERVERS_KEY][name] = _toml_table(table, inline=True)
        return document.as_string()
    section = tomlkit.dumps({SERVERS_KEY: {name: _toml_table(table, inline=False)}})
    if not text:
        return section
    return text + ("\n" if text.endswith("\n") else "\n\n") + section


def _toml_table(table: Mapping[str, Any], *, inline: bool) -> Any:
    result = tomlkit.inline_table() if inline else tomlkit.table()
    for key, value in table.items():
        if key in _INLINE_FIELDS or isinstance(value, dict):
            result[key] = _nested_inline(value)
        else:
            result[key] = value
    return result


def _nested_inline(value: Mapping[str, Any]) -> InlineTable:
    table = tomlkit.inline_table()
    for key, item in value.items():
        table[key] = _nested_inline(item) if isinstance(item, dict) else item
    return table


def _without_server(text: str, name: str) -> str:
    text = _cut_header_sections(text, (SERVERS_KEY, name))
    if name in _servers_of(_parse(text)):
        # Declared (also) as dotted keys or an inline table: tomlkit removes just those lines.
        document = tomlkit.parse(text)
        try:
            del document[SERVERS_KEY][name]
        except (KeyError, TOMLKitError):
            raise RequestFailed(
                f"server `{name}` is declared in a form that cannot be removed safely; "
                "edit config.toml by hand"
            ) from None
        text = document.as_string()
    return text


def _check(text: str, before: Mapping[str, Any], servers: Mapping[str, Any]) -> None:
    """Raise RequestFailed unless `text` holds the settings `before` with `servers` as its only change."""
    try:
        after = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        after = None
    unchanged = {key: value for key, value in before.items() if key != SERVERS_KEY}
    if (
        after is None
        or after.get(SERVERS_KEY, {}) != servers
        or {key: value for key, value in after.items() if key != SERVERS_KEY} != unchanged
    ):
        raise RequestFailed(
            "config.toml could not be edited without changing other settings; edit it by hand"
        )


def write_atomically(config_path: Path, text: str) -> None:
    """Replace the file atomically; a new file (and a new home folder) is private to the user."""
    config_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = config_path.stat().st_mode & 0o777 if config_path.exists() else 0o600
    handle, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=config_path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, config_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- header sections -------------------------------------------------------------------------------


def _cut_header_sections(text: str, prefix: tuple[str, ...]) -> str:
    """`text` without the header tables (`[a.b]`, `[[a.b]]`) whose key path starts with `prefix`."""
    lines = text.splitlines(keepends=True)
    headers = _header_lines(lines)
    doomed = [False] * len(lines)
    for index, (line, path) in enumerate(headers):
        if path[: len(prefix)] == prefix:
            end = headers[index + 1][0] if index + 1 < len(headers) else len(lines)
            start, stop = _section_span(lines, line, end)
            doomed[start:stop] = [True] * (stop - start)
    return "".join(line for line, gone in zip(lines, doomed, strict=True) if not gone)


def _insert_section(lines: list[str], prefix: tuple[str, ...], section: str) -> str:
    """`lines` with `section` after the last header table under `prefix`, before the blank lines and
    comments that lead to the next header."""
    headers = _header_lines(lines)
    last = max(index for index, (_line, path) in enumerate(headers) if path[: len(prefix)] == prefix)
    start = headers[last][0] + 1
    cut = headers[last + 1][0] if last + 1 < len(headers) else len(lines)
    while cut > start and (not lines[cut - 1].strip() or _is_comment(lines[cut - 1])):
        cut -= 1
    before, after = "".join(lines[:cut]), "".join(lines[cut:])
    if before and not before.endswith("\n"):
        before += "\n"
    if after and after.strip() and not after.startswith("\n"):
        section += "\n"
    return before + "\n" + section + after


def _section_span(lines: list[str], header: int, end: int) -> tuple[int, int]:
    """The lines to delete for the section from `header` up to the next header at `end`.

    Comment lines directly above a header describe it: the section's own go with it, the next
    header's stay, and so do the blank lines that separate the section from what comes before. At the
    end of the file the blank line that separated the section from the one before goes with it, so
    adding then removing restores the file exactly.
    """
    start = header
    while start > 0 and _is_comment(lines[start - 1]):
        start -= 1
    if end == len(lines):
        return (start - 1 if start > 0 and not lines[start - 1].strip() else start), end
    cut = end
    while cut > header + 1 and _is_comment(lines[cut - 1]):
        cut -= 1
    return start, cut


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _header_lines(lines: list[str]) -> list[tuple[int, tuple[str, ...]]]:
    """(line index, key path) of every table header, skipping text inside multi-line strings and arrays."""
    headers: list[tuple[int, tuple[str, ...]]] = []
    state = _LexState()
    for index, line in enumerate(lines):
        if state.at_top_level() and line.lstrip().startswith("["):
            headers.append((index, _header_path(line)))
            continue
        state.feed(line)
    return headers


def _header_path(line: str) -> tuple[str, ...]:
    node: Any = tomllib.loads(line)
    path: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        path.append(key)
        if isinstance(node, list):
            node = node[0]
    return tuple(path)


class _LexState:
    """Just enough TOML lexing to know whether a line starts outside any string or bracket."""

    def __init__(self) -> None:
        self.multiline_quote: str | None = None
        self.depth = 0

    def at_top_level(self) -> bool:
        return self.multiline_quote is None and self.depth == 0

    def feed(self, line: str) -> None:
        position = 0
        while position < len(line):
            if self.multiline_quote is not None:
                position = self._close_multiline(line, position)
                continue
            char = line[position]
            if char == "#":
                return
            if line.startswith(('"""', "'''"), position):
                self.multiline_quote = line[position : position + 3]
                position += 3
            elif char in "\"'":
                position = _skip_string(line, position)
            else:
                if char in "[{":
                    self.depth += 1
                elif char in "]}":
                    self.depth = max(0, self.depth - 1)
                position += 1

    def _close_multiline(self, line: str, position: int) -> int:
        quote = self.multiline_quote
        assert quote is not None
        while position < len(line):
            if quote == '"""' and line[position] == "\\":
                position += 2
            elif line.startswith(quote, position):
                position += 3
                while line.startswith(quote[0], position):  # up to two quotes may end the string
                    position += 1
                self.multiline_quote = None
                return position
            else:
                position += 1
        return position


def _skip_string(line: str, position: int) -> int:
    quote = line[position]
    position += 1
    while position < len(line) and line[position] != quote:
        position += 2 if quote == '"' and line[position] == "\\" else 1
    return position + 1
