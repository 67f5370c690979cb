"""What an edit means on a plain config tree: key paths, null, replace and upsert."""

from __future__ import annotations

from typing import Any

import pytest

from app_server.config.writing.edits import apply_edit, read_edit, value_at
from app_server.errors import ConfigWriteError


def edited(tree: dict[str, Any], key_path: str, value: Any, strategy: str = "replace") -> dict[str, Any]:
    apply_edit(tree, read_edit(key_path, value, strategy))
    return tree


def test_a_quoted_segment_may_hold_dots() -> None:
    edit = read_edit('model_providers."corp.ai".base_url', "https://corp.ai/v1", "replace")
    assert edit.path == ("model_providers", "corp.ai", "base_url")


@pytest.mark.parametrize("key_path", ["", "  ", "a..b", "a = 1", "[a]", '"unclosed'])
def test_what_is_not_one_key_path_is_refused(key_path: str) -> None:
    with pytest.raises(ConfigWriteError) as refused:
        read_edit(key_path, 1, "replace")
    assert refused.value.reason == "configValidationError"


@pytest.mark.parametrize(
    ("value", "reason"),
    [({"a": None}, "null may only be the whole value"), ([1, None], "null"), (2**63, "64-bit")],
)
def test_values_toml_cannot_hold_are_refused(value: Any, reason: str) -> None:
    with pytest.raises(ConfigWriteError, match=reason):
        read_edit("x", value, "replace")


def test_replace_creates_missing_tables_and_replaces_a_parent_that_is_not_one() -> None:
    assert edited({}, "a.b.c", 1) == {"a": {"b": {"c": 1}}}
    assert edited({"a": 5}, "a.b", 1) == {"a": {"b": 1}}


def test_upsert_merges_tables_at_every_depth_and_replace_does_not() -> None:
    tree = {"s": {"command": "x", "env": {"A": "1"}}}
    assert edited(tree, "s", {"env": {"B": "2"}}, "upsert") == {
        "s": {"command": "x", "env": {"A": "1", "B": "2"}}
    }
    assert edited(tree, "s", {"env": {"C": "3"}}) == {"s": {"env": {"C": "3"}}}
    assert edited({"s": 1}, "s", {"a": 1}, "upsert") == {"s": {"a": 1}}


def test_null_removes_a_key_and_needs_its_parent_tables() -> None:
    assert edited({"a": {"b": 1, "c": 2}}, "a.b", None) == {"a": {"c": 2}}
    assert edited({"a": {}}, "a.missing", None) == {"a": {}}
    with pytest.raises(ConfigWriteError) as refused:
        edited({}, "a.b", None)
    assert refused.value.reason == "configPathNotFound"


def test_value_at_tells_a_missing_key_from_a_present_one() -> None:
    assert value_at({"a": {"b": 0}}, ("a", "b")) == (True, 0)
    assert value_at({"a": {"b": 0}}, ("a", "c")) == (False, None)
    assert value_at({"a": 1}, ("a", "b")) == (False, None)
