"""The config as Codex's layer stack: config.toml (the `user` layer) under the daemon's `-c`
overrides (`sessionFlags`), and, when a thread is named, under that thread's `config` overrides
(`thread`, our extension); the effective tree they merge to, and which layer set each value.

Read afresh from disk on every call, as Codex does, so a front-end's settings page sees the file as
it is now and its version is the one a write will be checked against.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app_server.config.loader import build_config, read_config_source
from app_server.config.locator import KeyPath
from app_server.config.overrides import LayeredTree, OverrideLayer
from app_server.config.versions import file_version, overrides_version, text_version
from protocol.config_layers import (
    ConfigLayerMetadata,
    SessionFlagsLayerSource,
    ThreadLayerSource,
    UserLayerSource,
)


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
    thread: ConfigLayerEntry | None
    """The named thread's overrides (None: no thread named)."""
    effective: Mapping[str, Any]
    """The merged tree (secrets included): what the daemon's config is built from."""
    origins: Mapping[str, ConfigLayerMetadata]
    """Dotted path of every leaf of `effective` (array elements by index) -> the layer that set it."""

    def highest_first(self) -> list[ConfigLayerEntry]:
        """The layers in Codex's order for `config/read`: highest precedence first."""
        return [layer for layer in (self.thread, self.session_flags, self.user) if layer is not None]


@dataclass(frozen=True)
class ThreadOverrides:
    """A thread's `config` map, as the thread runs under it."""

    thread_id: str
    overrides: Mapping[str, Any]


def read_layer_stack(
    home: Path, cli_overrides: Sequence[str], thread: ThreadOverrides | None = None
) -> ConfigLayerStack:
    """The layers of `home`'s config.toml under `cli_overrides` (and `thread`'s overrides), validated
    as a reload (or that thread's config) validates them.

    Raises ConfigError (the loader's `config.toml:line:col: key: message` problems) when they do not load.
    """
    # The version is taken before the text: a write checked against it can only be refused for
    # an edit in between, never let through on a stale read.
    user_version = file_version(home / "config.toml")
    source = read_config_source(home)
    thread_overrides = thread.overrides if thread is not None else None
    build_config(source, cli_overrides=cli_overrides, thread_overrides=thread_overrides)
    merged = LayeredTree(source.tree)
    flags = LayeredTree({})
    for override in cli_overrides:
        merged.apply_cli_override(override)
        flags.apply_cli_override(override)
    thread_layer = None
    if thread is not None:
        merged.apply_thread_overrides(thread.overrides)
        by_thread = LayeredTree({})
        by_thread.apply_thread_overrides(thread.overrides)
        version = text_version(json.dumps(thread.overrides, sort_keys=True).encode())
        source_name = ThreadLayerSource(thread_id=thread.thread_id)
        thread_layer = ConfigLayerEntry(
            ConfigLayerMetadata(name=source_name, version=version), by_thread.tree
        )
    user = ConfigLayerEntry(
        ConfigLayerMetadata(name=UserLayerSource(file=str(source.file)), version=user_version), source.tree
    )
    session_flags = None
    if cli_overrides:
        version = overrides_version(cli_overrides)
        session_flags = ConfigLayerEntry(
            ConfigLayerMetadata(name=SessionFlagsLayerSource(), version=version), flags.tree
        )
    layers: dict[OverrideLayer | None, ConfigLayerEntry | None] = {
        "cli": session_flags,
        "thread": thread_layer,
        None: user,
    }
    origins = {
        ".".join(str(part) for part in path): (layers[merged.layer_of(path)] or user).metadata
        for path in _leaf_paths(merged.tree, ())
    }
    return ConfigLayerStack(
        user=user, session_flags=session_flags, thread=thread_layer, effective=merged.tree, origins=origins
    )


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
