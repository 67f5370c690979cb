"""The layer stack of config.toml under `-c` overrides: the merged tree, each leaf's origin, the order."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from app_server.config.layers import ThreadOverrides, read_layer_stack
from app_server.errors import ConfigError
from protocol.config_layers import ConfigLayerMetadata

FILE = '[mcp_servers.docs]\ncommand = "docs-mcp"\nenv = { A = "1" }\n\n[features]\napps = false\n'


def kinds(origins: Mapping[str, ConfigLayerMetadata]) -> dict[str, str]:
    return {path: origin.name.type for path, origin in origins.items()}


def test_a_table_override_merges_key_by_key_and_only_its_keys_are_session_flags(home: Path) -> None:
    (home / "config.toml").write_text(FILE)

    stack = read_layer_stack(home, ['mcp_servers.docs={ env = { B = "2" } }'])

    assert stack.effective["mcp_servers"]["docs"] == {"command": "docs-mcp", "env": {"A": "1", "B": "2"}}
    assert kinds(stack.origins) == {
        "mcp_servers.docs.command": "user",
        "mcp_servers.docs.env.A": "user",
        "mcp_servers.docs.env.B": "sessionFlags",
        "features.apps": "user",
    }


def test_a_scalar_over_a_table_replaces_it_and_its_leaves_leave_the_origins(home: Path) -> None:
    (home / "config.toml").write_text('model = "m"\n[tools]\nweb = true\n')

    stack = read_layer_stack(home, ["tools=3"])

    assert stack.effective == {"model": "m", "tools": 3}
    assert kinds(stack.origins) == {"model": "user", "tools": "sessionFlags"}


def test_the_layers_are_highest_precedence_first_and_the_flags_layer_only_with_flags(home: Path) -> None:
    (home / "config.toml").write_text(FILE)

    flagged = read_layer_stack(home, ["model=o3"])
    plain = read_layer_stack(home, [])

    assert [layer.metadata.name.type for layer in flagged.highest_first()] == ["sessionFlags", "user"]
    assert flagged.highest_first()[0].tree == {"model": "o3"}
    assert [layer.metadata.name.type for layer in plain.highest_first()] == ["user"]


def test_an_override_that_does_not_validate_fails_as_loading_would(home: Path) -> None:
    (home / "config.toml").write_text(FILE)

    with pytest.raises(ConfigError) as caught:
        read_layer_stack(home, ["mcp_servers.docs.command=5"])

    assert caught.value.problems[0].startswith("-c mcp_servers.docs.command: ")


def test_a_threads_overrides_lie_over_the_flags_and_name_only_the_keys_they_set(home: Path) -> None:
    (home / "config.toml").write_text(FILE)
    thread = ThreadOverrides("t1", {"mcp_servers.docs": {"env": {"C": "3"}}, "model": "t"})

    stack = read_layer_stack(home, ["model=o3"], thread)

    assert stack.effective["model"] == "t"
    assert stack.effective["mcp_servers"]["docs"]["env"] == {"A": "1", "C": "3"}
    assert kinds(stack.origins) == {
        "mcp_servers.docs.command": "user",
        "mcp_servers.docs.env.A": "user",
        "mcp_servers.docs.env.C": "thread",
        "features.apps": "user",
        "model": "thread",
    }
    assert [layer.metadata.name.type for layer in stack.highest_first()] == ["thread", "sessionFlags", "user"]
