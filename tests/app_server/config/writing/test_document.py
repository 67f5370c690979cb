"""Edits applied to config.toml's text: the same meaning as on a plain tree, every other byte kept."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from app_server.config.writing.document import edited_text
from app_server.config.writing.edits import apply_edit, read_edit

TEXT = """\
# head
model = "a"  # why a

[features]
apps = false

[mcp_servers.docs]
command = "d"
env = { A = "1" }  # inline
"""

EDITS: list[tuple[str, Any, str]] = [
    ("model", "b", "replace"),
    ("approval_policy", "never", "replace"),
    ("features.apps", None, "replace"),
    ("mcp_servers.docs.env.B", "2", "replace"),
    ("mcp_servers.docs.env", {"C": {"deep": 1}}, "upsert"),
    ("mcp_servers.new", {"command": "n", "args": ["1"], "env": {"K": "v"}}, "replace"),
    ("model_providers.corp.models", [{"id": "m"}], "replace"),
    ("mcp_servers.docs", {"cwd": "/srv"}, "upsert"),
    ("profiles.a.b.c", 1.5, "replace"),
]


@pytest.mark.parametrize(("key_path", "value", "strategy"), EDITS)
def test_the_text_edit_means_what_the_tree_edit_means(key_path: str, value: Any, strategy: str) -> None:
    edit = read_edit(key_path, value, strategy)
    expected = tomllib.loads(TEXT)
    apply_edit(expected, edit)

    assert tomllib.loads(edited_text(TEXT, [edit])) == expected


def test_a_changed_value_keeps_its_place_and_comment() -> None:
    text = edited_text(TEXT, [read_edit("model", "b", "replace")])
    assert text == TEXT.replace('model = "a"', 'model = "b"')


def test_a_key_of_an_inline_table_stays_inline() -> None:
    text = edited_text(TEXT, [read_edit("mcp_servers.docs.env.B", {"x": 1}, "replace")])
    assert 'env = { A = "1", B = {x = 1}}  # inline' in text
    assert text.startswith(TEXT[: TEXT.index("env =")])


def test_a_new_key_goes_after_its_tables_last_key_not_under_the_next_tables_comment() -> None:
    text = """\
model = "a"

# Features, below.
[features]
apps = false

# The docs server.
[mcp_servers.docs]
command = "d"
"""
    edits = [read_edit("approval_policy", "never", "replace"), read_edit("features.x", 1, "replace")]

    assert edited_text(text, edits) == text.replace(
        'model = "a"\n', 'model = "a"\napproval_policy = "never"\n'
    ).replace("apps = false\n", "apps = false\nx = 1\n")
