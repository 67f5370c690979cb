"""Other hosts' MCP config files (Codex, Claude Code, VS Code, Cursor): read, told apart, listed by entry.

Each host keeps its servers under its own key (Claude Code also per project); `list_candidates` yields
every entry with where the file declares it, and `conversion` maps or skips each one.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from app_server.config.editing.edits import SERVERS_KEY
from app_server.errors import RequestFailed

ImportSource = Literal["codex", "claude", "vscode", "cursor"]


class SkipError(Exception):
    """A source entry that cannot be imported; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Candidate:
    """One server entry of a source file, under the name the file gives it."""

    name: str
    origin: str
    raw: Any


@dataclass
class ImportContext:
    """The file being imported: where it is, which host's format it is in, and its parsed document."""

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


def read_document(path: Path) -> Any:
    """The parsed file: TOML for a `.toml` file, else JSON with VS Code's JSONC extras allowed.

    Raises RequestFailed when it cannot be read or parsed.
    """
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


def require_servers_key(path: Path, source: ImportSource, document: Any) -> None:
    """A file without the key its host keeps servers under is the wrong file (or the wrong --from)."""
    keys = _SERVER_KEYS[source]
    if not isinstance(document, dict) or not any(key in document for key in keys):
        wanted = " or ".join(f"`{key}`" for key in keys)
        raise RequestFailed(f"{path.name} has no {wanted}, where {source} keeps its MCP servers")


def list_candidates(context: ImportContext) -> Iterator[Candidate]:
    """Every server entry of the file, in the order its host's format lists them."""
    return _CANDIDATES[context.dialect](context)


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


def _codex_candidates(context: ImportContext) -> Iterator[Candidate]:
    for name, raw in _servers_map(context.document, SERVERS_KEY, SERVERS_KEY):
        yield Candidate(name=name, origin=f"{SERVERS_KEY}.{name}", raw=raw)


def _claude_candidates(context: ImportContext) -> Iterator[Candidate]:
    """`.mcp.json` holds `mcpServers`; `~/.claude.json` adds per-project ones under `projects.<path>`."""
    for name, raw in _servers_map(context.document, "mcpServers", "mcpServers"):
        yield Candidate(name=name, origin=f"mcpServers.{name}", raw=raw)
    projects = context.document.get("projects") if isinstance(context.document, dict) else None
    for project, settings in (projects or {}).items():
        where = f"projects.{project}.mcpServers"
        for name, raw in _servers_map(settings, "mcpServers", where):
            yield Candidate(name=name, origin=f"{where}.{name}", raw=raw)


def _vscode_candidates(context: ImportContext) -> Iterator[Candidate]:
    for name, raw in _servers_map(context.document, "servers", "servers"):
        yield Candidate(name=name, origin=f"servers.{name}", raw=raw)


def _cursor_candidates(context: ImportContext) -> Iterator[Candidate]:
    for name, raw in _servers_map(context.document, "mcpServers", "mcpServers"):
        yield Candidate(name=name, origin=f"mcpServers.{name}", raw=raw)


_SERVER_KEYS: dict[ImportSource, tuple[str, ...]] = {
    "codex": (SERVERS_KEY,),
    "claude": ("mcpServers", "projects"),
    "vscode": ("servers",),
    "cursor": ("mcpServers",),
}
_CANDIDATES: dict[ImportSource, Callable[[ImportContext], Iterator[Candidate]]] = {
    "codex": _codex_candidates,
    "claude": _claude_candidates,
    "vscode": _vscode_candidates,
    "cursor": _cursor_candidates,
}
