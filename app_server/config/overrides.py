"""Config layers over config.toml: `-c key=value` overrides, then a thread's `config` map.

Both address keys by dotted path. A table value merges into the table already there key by key;
any other value replaces what was there. Each layer remembers which override set which key, so
a problem it causes names the override instead of a file.
"""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Mapping
from typing import Any, Literal

from app_server.config.locator import KeyPath
from app_server.errors import ConfigError

OverrideLayer = Literal["cli", "thread"]
"""Which layer an override belongs to: the daemon's `-c` flags or a thread's `config` map."""


class LayeredTree:
    """The merged config tree plus, for every key an override set, the label and layer of that override."""

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.tree: dict[str, Any] = _plain(base)
        self._origins: dict[KeyPath, tuple[str, OverrideLayer]] = {}

    def apply_cli_override(self, text: str) -> None:
        """Apply one `-c key=value`: the value is TOML, or a plain string when it does not parse.

        Raises ConfigError when there is no `=` or the key is not a valid (dotted) TOML key.
        """
        key, separator, raw_value = text.partition("=")
        key = key.strip()
        label = f"-c {key}"
        if not separator or not key:
            raise ConfigError([f"{label}: expected `-c key=value`"])
        path = parse_key_path(key)
        if path is None:
            raise ConfigError([f"{label}: `{key}` is not a valid key path"])
        value: Any = raw_value.strip()
        with contextlib.suppress(tomllib.TOMLDecodeError):
            parsed = tomllib.loads(f"value = {value}")
            if list(parsed) == ["value"]:
                value = parsed["value"]
        self._set(path, value, label, "cli")

    def apply_thread_overrides(self, overrides: Mapping[str, Any]) -> None:
        """Apply a thread's `config` map; keys may be dotted (`features.apps`) or nested objects.

        Raises ConfigError naming every key that is not a valid key path.
        """
        problems: list[str] = []
        for key, value in overrides.items():
            path = parse_key_path(key)
            if path is None:
                problems.append(f"thread config: `{key}` is not a valid key path")
                continue
            self._set(path, value, f"thread config `{key}`", "thread")
        if problems:
            raise ConfigError(problems)

    def origin(self, path: KeyPath, *, descendants: bool = False) -> str | None:
        """The latest override that set `path` or one of its ancestors (or, asked, a descendant)."""
        found = self._latest(path, descendants=descendants)
        return found[0] if found is not None else None

    def layer_of(self, path: KeyPath) -> OverrideLayer | None:
        """Which kind of override set the value at `path` (or the table holding it), if one did; a
        table merged key by key into one already there sets each key, not the table."""
        found = self._latest(path, descendants=False)
        return found[1] if found is not None else None

    def _latest(self, path: KeyPath, *, descendants: bool) -> tuple[str, OverrideLayer] | None:
        found = None
        for set_path, origin in self._origins.items():
            covers = path[: len(set_path)] == set_path
            if covers or (descendants and set_path[: len(path)] == path):
                found = origin
        return found

    def _set(self, path: KeyPath, value: Any, label: str, layer: OverrideLayer) -> None:
        table = self.tree
        for depth, part in enumerate(path[:-1]):
            child = table.get(str(part))
            if not isinstance(child, dict):
                child = {}
                table[str(part)] = child
                self._remember(path[: depth + 1], label, layer)
            table = child
        self._merge(table, path, value, label, layer)

    def _merge(
        self, table: dict[str, Any], path: KeyPath, value: Any, label: str, layer: OverrideLayer
    ) -> None:
        key = str(path[-1])
        if isinstance(value, Mapping) and isinstance(table.get(key), dict):
            for child_key, child_value in value.items():
                self._merge(table[key], (*path, str(child_key)), child_value, label, layer)
            return
        table[key] = _plain(value)
        self._remember(path, label, layer)

    def _remember(self, path: KeyPath, label: str, layer: OverrideLayer) -> None:
        # Re-inserting moves the key to the end, so the latest override is found last.
        self._origins.pop(path, None)
        self._origins[path] = (label, layer)


def parse_key_path(key: str) -> KeyPath | None:
    """`mcp_servers."my server".command` -> ("mcp_servers", "my server", "command"), by TOML key rules.

    None when `key` is not exactly one (dotted) key.
    """
    if any(char in key for char in "\n\r=#[]"):
        return None
    try:
        node: Any = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(node, dict):
        (name, node) = next(iter(node.items()))
        path.append(name)
    return tuple(path)


def _plain(value: Any) -> Any:
    """A private copy of JSON/TOML data, so later merges never mutate the caller's objects."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
