"""The same edits applied to config.toml's text through tomlkit, so every other byte stays as it was.

A replaced value keeps its place (and its comment); a new key goes right after the last key of its
table, before the blank lines and comments that lead to what follows (tomlkit alone would put it
after them, under a comment about the next table); a new table becomes a `[a.b]` section where
tomlkit puts it; a key inside an inline table stays inline.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, InlineTable, Table

from app_server.config.writing.edits import KeyEdit


def edited_text(text: str, edits: list[KeyEdit]) -> str:
    """`text` (valid TOML) with `edits` applied in order; the caller checks the result's meaning."""
    document = tomlkit.parse(text)
    for edit in edits:
        _apply(document, edit)
    return document.as_string()


def _apply(document: MutableMapping[str, Any], edit: KeyEdit) -> None:
    *parents, last = edit.path
    container = document
    for depth, part in enumerate(parents):
        child = container.get(part)
        if not isinstance(child, MutableMapping):
            if edit.value is None:
                return  # apply_edit has already refused a removal under a missing table
            container[part] = _item(_nested(edit.path[depth + 1 :], edit.value), container)
            return
        container = child
    if edit.value is None:
        if last in container:
            del container[last]
    elif edit.upsert and isinstance(container.get(last), MutableMapping) and isinstance(edit.value, dict):
        _merge(container[last], edit.value)
    elif last in container:
        container[last] = _item(edit.value, container)
    else:
        _add(container, last, _item(edit.value, container))


def _merge(table: MutableMapping[str, Any], overlay: Mapping[str, Any]) -> None:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(table.get(key), MutableMapping):
            _merge(table[key], value)
        elif key in table:
            table[key] = _item(value, table)
        else:
            _add(table, key, _item(value, table))


def _add(container: MutableMapping[str, Any], key: str, value: Any) -> None:
    """A new `key = value` right after the last key of `container`'s own lines."""
    body = container.value if isinstance(container, Table) else container
    item = tomlkit.item(value)
    if isinstance(body, Container) and not _is_table(item):
        keyed = [i for i, (name, entry) in enumerate(body.body) if name is not None and not _is_table(entry)]
        if keyed and keyed[-1] + 1 < len(body.body):
            # tomlkit has no public "insert at"; the result is checked by re-reading it anyway.
            body._insert_at(keyed[-1] + 1, key, item)
            return
    container[key] = item


def _is_table(item: object) -> bool:
    return isinstance(item, Table | AoT)


def _nested(path: tuple[str, ...], value: Any) -> Any:
    for part in reversed(path):
        value = {part: value}
    return value


def _item(value: Any, parent: object) -> Any:
    """A table inside an inline table must be inline too; elsewhere tomlkit picks `[a.b]` sections."""
    if isinstance(parent, InlineTable) and isinstance(value, dict):
        table = tomlkit.inline_table()
        for key, item in value.items():
            table[key] = _item(item, table)
        return table
    return value
