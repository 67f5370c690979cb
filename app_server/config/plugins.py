"""Plugin-declared MCP servers: `<home>/plugins/<id>/.codex-plugin/plugin.json` -> its `.mcp.json`.

A plugin's `mcpServers` names a JSON file (relative to the plugin folder) holding either
`{"mcpServers": {...}}` or the bare map. Each server takes the same keys as `[mcp_servers.NAME]`;
a `type` field is accepted and dropped, a relative `cwd` is resolved under the plugin folder.
Problems in a plugin are warnings: an invalid server is skipped alone, its siblings still load.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from app_server.config.diagnostics import ConfigProblem, Diagnostics, Location, dotted
from app_server.config.entries import Provenance, ServerEntry
from app_server.config.locator import KeyPath, KeyPositions, locate_json_keys
from app_server.config.server_tables import validate_server_table

MANIFEST = Path(".codex-plugin") / "plugin.json"


@dataclass
class PluginServers:
    """Every valid server of every enabled plugin (first plugin by id wins a name), and the warnings."""

    entries: dict[str, ServerEntry] = field(default_factory=dict)
    warnings: list[ConfigProblem] = field(default_factory=list)


def load_plugin_servers(plugins_dir: Path, disabled: frozenset[str]) -> PluginServers:
    """Read the plugins under `plugins_dir` in id order, skipping the ids in `disabled`."""
    result = PluginServers()
    if not plugins_dir.is_dir():
        return result
    for root in sorted(path for path in plugins_dir.iterdir() if path.is_dir()):
        if root.name in disabled:
            continue
        for entry in _plugin_servers(root, result.warnings):
            winner = result.entries.get(entry.name)
            if winner is None:
                result.entries[entry.name] = entry
            else:
                result.warnings.append(
                    ConfigProblem(
                        summary=f"{entry.provenance.key}: server `{entry.name}` is already declared by "
                        f"plugin `{winner.provenance.plugin_id}`; this one is skipped",
                        location=Location(source=str(entry.provenance.file)),
                    )
                )
    return result


def _plugin_servers(root: Path, warnings: list[ConfigProblem]) -> list[ServerEntry]:
    plugin_id = root.name
    manifest_path = root / MANIFEST
    manifest = _read_json(manifest_path, warnings)
    if manifest is None:
        return []
    data, _ = manifest
    if not isinstance(data, Mapping):
        warnings.append(_problem(manifest_path, "plugin.json must hold a JSON object"))
        return []
    pointer = data.get("mcpServers")
    if pointer is None:
        return []
    servers_path = (root / pointer).resolve() if isinstance(pointer, str) else None
    if servers_path is None or not servers_path.is_relative_to(root.resolve()):
        warnings.append(_problem(manifest_path, "mcpServers: expected a path inside the plugin folder"))
        return []
    document = _read_json(servers_path, warnings)
    if document is None:
        return []
    servers, positions = document
    base: KeyPath = ()
    if isinstance(servers, Mapping) and isinstance(servers.get("mcpServers"), Mapping):
        servers, base = servers["mcpServers"], ("mcpServers",)
    if not isinstance(servers, Mapping):
        warnings.append(_problem(servers_path, "expected a JSON object of servers"))
        return []
    entries = []
    for name, raw in servers.items():
        path = (*base, name)
        diagnostics = Diagnostics(locate=partial(_locate, servers_path, positions))
        config = validate_server_table(name, _prepared(raw, root), path, diagnostics)
        warnings.extend(diagnostics.errors)
        if config is None:
            warnings.append(_problem(servers_path, f"server `{name}` of plugin `{plugin_id}` skipped"))
            continue
        provenance = Provenance(
            source="plugin", file=str(servers_path), key=dotted(path), plugin_id=plugin_id
        )
        entries.append(ServerEntry(name=name, config=config, provenance=provenance))
    return entries


def _prepared(raw: object, root: Path) -> object:
    """Drop the `type` field and anchor a relative `cwd` at the plugin folder."""
    if not isinstance(raw, Mapping):
        return raw
    table = {key: value for key, value in raw.items() if key != "type"}
    cwd = table.get("cwd")
    if isinstance(cwd, str) and not Path(cwd).is_absolute():
        table["cwd"] = str(root / cwd)
    return table


def _read_json(path: Path, warnings: list[ConfigProblem]) -> tuple[Any, KeyPositions] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        warnings.append(_problem(path, "file not found"))
        return None
    except (OSError, UnicodeDecodeError):
        warnings.append(_problem(path, "cannot be read as UTF-8 text"))
        return None
    try:
        return json.loads(text), locate_json_keys(text)
    except json.JSONDecodeError as error:
        location = Location(source=str(path), line=error.lineno, column=error.colno)
        warnings.append(ConfigProblem(summary=f"invalid JSON: {error.msg}", location=location))
        return None


def _locate(file: Path, positions: KeyPositions, path: KeyPath) -> Location:
    found = positions.position(path)
    if found is None:
        return Location(source=str(file))
    return Location(source=str(file), line=found[0], column=found[1])


def _problem(path: Path, summary: str) -> ConfigProblem:
    return ConfigProblem(summary=summary, location=Location(source=str(path)))
