"""Plugin-declared servers: manifests, `.mcp.json` shapes, isolation of invalid servers, name clashes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app_server.config.loader import load_config
from app_server.config.servers import HttpServerConfig, StdioServerConfig
from tests.support.config import write_config


def add_plugin(
    home: Path, plugin_id: str, servers: Any, *, wrap: bool = True, text: str | None = None
) -> Path:
    root = home / "plugins" / plugin_id
    (root / ".codex-plugin").mkdir(parents=True)
    (root / ".codex-plugin" / "plugin.json").write_text(
        json.dumps({"name": plugin_id, "mcpServers": "./.mcp.json"})
    )
    body = text if text is not None else json.dumps({"mcpServers": servers} if wrap else servers, indent=2)
    (root / ".mcp.json").write_text(body)
    return root


def test_plugin_servers_load_from_the_wrapped_or_bare_form(home: Path) -> None:
    add_plugin(home, "alpha", {"a": {"command": "run-a"}})
    add_plugin(home, "beta", {"b": {"type": "http", "url": "http://127.0.0.1:1/mcp"}}, wrap=False)
    servers = load_config(home).mcp_servers
    assert isinstance(servers["a"].config, StdioServerConfig)
    assert isinstance(servers["b"].config, HttpServerConfig)
    provenance = servers["b"].provenance
    assert (provenance.source, provenance.plugin_id, provenance.key) == ("plugin", "beta", "b")
    assert provenance.file == str((home / "plugins" / "beta" / ".mcp.json").resolve())
    assert servers["a"].provenance.key == "mcpServers.a"


def test_a_relative_cwd_is_resolved_under_the_plugin_folder(home: Path) -> None:
    root = add_plugin(
        home, "alpha", {"a": {"command": "x", "cwd": "bin"}, "b": {"command": "y", "cwd": "/abs"}}
    )
    servers = load_config(home).mcp_servers
    assert servers["a"].config.cwd == root / "bin"  # type: ignore[union-attr]
    assert servers["b"].config.cwd == Path("/abs")  # type: ignore[union-attr]


def test_a_disabled_plugin_contributes_nothing(home: Path) -> None:
    add_plugin(home, "p@market", {"a": {"command": "x"}})
    write_config(home, plugins={"p@market": {"enabled": False}})
    assert load_config(home).mcp_servers == {}


def test_an_invalid_plugin_server_is_skipped_alone_with_a_positioned_warning(home: Path) -> None:
    add_plugin(home, "alpha", {"good": {"command": "x"}, "bad": {"command": "x", "url": "http://h"}})
    config = load_config(home)
    assert list(config.mcp_servers) == ["good"]
    first = config.warnings[0]
    assert first.summary == "mcpServers.bad.url: `url` is not supported for stdio"
    assert first.location is not None
    assert (first.location.line, first.location.column) == (8, 7)
    assert "server `bad` of plugin `alpha` skipped" in config.warnings[1].summary


def test_broken_plugin_json_is_a_warning_and_other_plugins_still_load(home: Path) -> None:
    add_plugin(home, "alpha", None, text='{"mcpServers": {\n  "a": }\n}')
    add_plugin(home, "beta", {"b": {"command": "x"}})
    config = load_config(home)
    assert list(config.mcp_servers) == ["b"]
    warning = config.warnings[0]
    assert warning.summary.startswith("invalid JSON")
    assert warning.location is not None
    assert (warning.location.line, warning.location.column) == (2, 8)


def test_a_plugin_pointing_outside_its_folder_is_refused(home: Path) -> None:
    root = add_plugin(home, "alpha", {"a": {"command": "x"}})
    (root / ".codex-plugin" / "plugin.json").write_text(json.dumps({"mcpServers": "../../config.toml"}))
    config = load_config(home)
    assert config.mcp_servers == {}
    assert "mcpServers: expected a path inside the plugin folder" in config.warnings[0].summary


def test_user_config_wins_a_name_clash_and_the_plugin_is_named(home: Path) -> None:
    add_plugin(home, "alpha", {"docs": {"command": "plugin-docs"}})
    write_config(home, {"docs": {"command": "user-docs"}})
    config = load_config(home)
    docs = config.mcp_servers["docs"]
    assert docs.config.command == "user-docs"  # type: ignore[union-attr]
    assert docs.provenance.source == "config"
    assert [w.summary for w in config.warnings] == [
        "mcp_servers.docs: overrides the server `docs` of plugin `alpha`"
    ]


def test_between_plugins_the_first_id_wins_and_is_recorded(home: Path) -> None:
    add_plugin(home, "beta", {"docs": {"command": "beta-docs"}})
    add_plugin(home, "alpha", {"docs": {"command": "alpha-docs"}})
    config = load_config(home)
    assert config.mcp_servers["docs"].provenance.plugin_id == "alpha"
    assert "already declared by plugin `alpha`" in config.warnings[0].summary
