"""Imports MCP servers declared for other hosts (Codex, Claude Code, VS Code, Cursor) into config.toml.

What maps is imported; what does not is skipped with a reason, never half-imported. Reading the
source files is `sources`, mapping one entry is `conversion`; this module names the servers and
writes them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app_server.config.editing.conversion import convert
from app_server.config.editing.edits import add_servers, configured_servers, validate_server_name
from app_server.config.editing.sources import (
    ImportContext,
    ImportSource,
    SkipError,
    detect_source,
    list_candidates,
    read_document,
    require_servers_key,
)
from app_server.config.servers import SERVER_NAME_PATTERN, McpServerConfig
from app_server.errors import InvalidParams

_VALID_NAME = re.compile(SERVER_NAME_PATTERN)


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
    document = read_document(path)
    if source == "auto":
        source = detect_source(path, document)
    require_servers_key(path, source, document)
    context = ImportContext(path=path, dialect=source, document=document)
    candidates = list(list_candidates(context))
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
            config, notes = convert(candidate.raw, context)
        except SkipError as problem:
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
        raise SkipError(_invalid_name_reason(name, source_names, configured))
    if name in taken:
        raise SkipError(f"`{name}` is already imported from {taken[name]}")
    if name in configured and not force:
        raise SkipError("a server with this name is already configured (use --force to replace it)")


def _invalid_name_reason(name: str, source_names: list[str], configured: Collection[str]) -> str:
    """Offer a sanitised name only when nothing else in the source or the config could claim it."""
    reason = "invalid server name (use letters, digits, `_` and `-`)"
    suggestion = re.sub(r"[^a-zA-Z0-9_-]+", "_", name).strip("_")
    rivals = {re.sub(r"[^a-zA-Z0-9_-]+", "_", other).strip("_") for other in source_names if other != name}
    if suggestion and suggestion not in rivals and suggestion not in configured:
        return f"{reason}; import it as `{suggestion}` with --rename '{name}={suggestion}'"
    return f"{reason}; choose one with --rename '{name}=NEW_NAME'"
