"""Key positions in TOML and JSON documents."""

from __future__ import annotations

import pytest

from app_server.config.locator import locate_json_keys, locate_toml_keys

TOML = """\
# comment with key = "value"
title = "x"   # trailing comment
[mcp_servers.docs]
command = "npx"
args = ["-y", "pkg", { nested = 1 }]
env = { TOKEN = "a", "quoted key" = "b" }
description = \"\"\"
fake = "not a key"
\"\"\"

[mcp_servers."my-server"]
tools.search.approval_mode = "auto"

[[profiles]]
name = "first"

[[profiles]]
name = "second"

[profiles.inner]
deep = true
"""


@pytest.mark.parametrize(
    ("path", "position"),
    [
        (("title",), (2, 1)),
        (("mcp_servers",), (3, 2)),
        (("mcp_servers", "docs"), (3, 14)),
        (("mcp_servers", "docs", "command"), (4, 1)),
        (("mcp_servers", "docs", "args", 1), (5, 15)),
        (("mcp_servers", "docs", "args", 2, "nested"), (5, 24)),
        (("mcp_servers", "docs", "env", "TOKEN"), (6, 9)),
        (("mcp_servers", "docs", "env", "quoted key"), (6, 22)),
        (("mcp_servers", "docs", "description"), (7, 1)),
        (("mcp_servers", "my-server", "tools", "search", "approval_mode"), (12, 14)),
        (("mcp_servers", "my-server", "tools", "search"), (12, 7)),
        (("profiles", 0, "name"), (15, 1)),
        (("profiles", 1, "name"), (18, 1)),
        (("profiles", 1, "inner", "deep"), (21, 1)),
        (("profiles", 1, "inner"), (20, 11)),
    ],
)
def test_toml_keys_are_found_in_headers_dotted_keys_inline_tables_and_arrays(
    path: tuple[str | int, ...], position: tuple[int, int]
) -> None:
    assert locate_toml_keys(TOML).position(path) == position


def test_a_key_inside_a_multiline_string_is_not_a_key() -> None:
    assert locate_toml_keys(TOML).position(("fake",)) is None


def test_a_missing_key_is_placed_at_its_longest_present_prefix() -> None:
    positions = locate_toml_keys(TOML)
    assert positions.position(("mcp_servers", "docs", "url")) == (3, 14)
    assert ("mcp_servers", "docs", "url") not in positions


def test_json_keys_and_array_elements_are_found() -> None:
    text = '{\n  "mcpServers": {\n    "a\\"b": {"command": "x", "args": ["1", 2]}\n  }\n}\n'
    positions = locate_json_keys(text)
    assert positions.position(("mcpServers",)) == (2, 3)
    assert positions.position(("mcpServers", 'a"b', "command")) == (3, 14)
    assert positions.position(("mcpServers", 'a"b', "args", 1)) == (3, 44)
