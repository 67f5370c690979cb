"""The config as Codex's layer stack: config.toml (the `user` layer) under the daemon's `-c`
overrides (`sessionFlags`), the effective tree they merge to, and which layer set each value.

Read afresh from disk on every call, as Codex does, so a front-end's settings page sees the file as
it is now and its version is the one a write will be checked against. Thread overrides are not a
layer here: they belong to one thread, and `config/read` names none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app_server.config.loader import build_config, read_config_source
from app_server.config.locator import KeyPath
from app_server.config.overrides import LayeredTree
from app_server.config.versions import file_version, overrides_version
from protocol.config_layers import ConfigLayerMetadata, SessionFlagsLayerSource, UserLayerSource


@dataclass(frozen=True)
class ConfigLayerEntry:
    """One layer: what it is, its version, and the tree it holds on its own (secrets included)."""

    metadata: ConfigLayerMetadata
    tree: Mapping[str, Any]


@dataclass(frozen=True)
class ConfigLayerStack:
    user: ConfigLayerEntry
    session_flags: ConfigLayerEntry | None
    """None when the daemon was started without `-c` overrides."""
    effective: Mapping[str, Any]
    """The merged tree (secrets included): what the daemon's config is built from."""
    origins: Mapping[str, ConfigLayerMetadata]
    """Dotted path of every leaf of `effective` (array elements by index) -> the layer that set it."""

    def highest_first(self) -> list[ConfigLayerEntry]:
        """The layers in Codex's order for `config/read`: highest precedence first."""
        return [self.user] if self.session_flags is None else [self.session_flags, self.user]


def read_layer_stack(home: Path, cli_overrides: Sequence[str]) -> ConfigLayerStack:
    """The layers of `home`'s config.toml under `cli_overrides`, validated as a reload validates them.

    Raises ConfigError (the loader's `config.toml:line:col: key: message` problems) when they do not load.
    """
    # The version is taken before the text: a write checked against it can only be refused for
    # an edit in between, never let through on a stale read.
    user_version = file_version(home / "config.toml")
    source = read_config_source(home)
    build_config(source, cli_overrides=cli_overrides)
    merged = LayeredTree(source.tree)
    flags = LayeredTree({})
    for override in cli_overrides:
        merged.apply_cli_override(override)
        flags.apply_cli_override(override)
    user = ConfigLayerEntry(
        ConfigLayerMetadata(name=UserLayerSource(file=str(source.file)), version=user_version), source.tree
    )
    session_flags = None
    if cli_overrides:
        version = overrides_version(cli_overrides)
        session_flags = ConfigLayerEntry(
            ConfigLayerMetadata(name=SessionFlagsLayerSource(), version=version), flags.tree
        )
    origins = {
        ".".join(str(part) for part in path): (
            session_flags.metadata
            if session_flags is not None and merged.origin(path) is not None
            else user.metadata
        )
        for path in _leaf_paths(merged.tree, ())
    }
    return ConfigLayerStack(user=user, session_flags=session_flags, effective=merged.tree, origins=origins)


def _leaf_paths(value: Any, path: KeyPath) -> Iterator[KeyPath]:
    """The path of every value below `value` that is neither a table nor an array."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from _leaf_paths(child, (*path, str(key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaf_paths(child, (*path, index))
    elif path:
        yield path
