"""One config edit, read from the wire and applied to a plain config tree (the meaning of an edit).

The reference's rules: `null` removes the key (its parent tables must exist); `replace` sets the
value, creating missing parent tables and replacing a parent that is not a table; `upsert` merges a
table into the table already there, key by key, at every depth (anything else replaces).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app_server.config.overrides import parse_key_path
from app_server.errors import ConfigWriteError, quoted

_INT64 = range(-(2**63), 2**63)


@dataclass(frozen=True)
class KeyEdit:
    """An edit ready to apply: the key path, the value (None removes the key) and the strategy."""

    path: tuple[str, ...]
    value: Any
    upsert: bool

    @property
    def key(self) -> str:
        return ".".join(self.path)


def read_edit(key_path: str, value: Any, strategy: str) -> KeyEdit:
    """The edit a client asked for; ConfigWriteError (configValidationError) when it cannot be one."""
    path = parse_key_path(key_path) if key_path.strip() else None
    if not path:
        raise ConfigWriteError("configValidationError", f"`{quoted(key_path)}` is not a valid key path")
    edit = KeyEdit(path=tuple(str(part) for part in path), value=value, upsert=strategy == "upsert")
    if value is not None:
        _check_value(value, edit.key)
    return edit


def apply_edit(tree: dict[str, Any], edit: KeyEdit) -> None:
    """Apply `edit` to `tree` in place. Raises ConfigWriteError (configPathNotFound) when a removal's
    parent tables do not exist."""
    *parents, last = edit.path
    table = tree
    for depth, part in enumerate(parents):
        child = table.get(part)
        if not isinstance(child, dict):
            if edit.value is None:
                missing = ".".join(edit.path[: depth + 1])
                raise ConfigWriteError("configPathNotFound", f"`{missing}` is not a table in config.toml")
            child = {}
            table[part] = child
        table = child
    if edit.value is None:
        table.pop(last, None)
    elif edit.upsert and isinstance(table.get(last), dict) and isinstance(edit.value, dict):
        merge_tables(table[last], edit.value)
    else:
        table[last] = copy.deepcopy(edit.value)


def merge_tables(base: dict[str, Any], overlay: Mapping[str, Any]) -> None:
    """`overlay` merged into `base` in place: tables key by key, any other value replaces."""
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge_tables(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def value_at(tree: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    """(found, value) of `path` in `tree`."""
    node: Any = tree
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _check_value(value: Any, key: str) -> None:
    """JSON that TOML can hold: no `null` inside a value, integers within 64 bits."""
    if value is None:
        raise ConfigWriteError(
            "configValidationError", f"`{quoted(key)}`: null may only be the whole value (it removes the key)"
        )
    if isinstance(value, bool | str | float):
        return
    if isinstance(value, int):
        if value not in _INT64:
            reason = f"`{quoted(key)}`: integer out of TOML's 64-bit range"
            raise ConfigWriteError("configValidationError", reason)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{key}[{index}]")
    elif isinstance(value, dict):
        for name, item in value.items():
            _check_value(item, f"{key}.{name}")
