"""The scope planner's effective view: resolved once per config and account kind, so a reload that
plans many threads under one config does not resolve it for each."""

from __future__ import annotations

from pathlib import Path

from app_server.auth import AuthStore
from app_server.config.app_config import AppConfig
from app_server.config.loader import load_config
from app_server.events import EventBus
from app_server.mcp.manager import McpManager
from app_server.mcp.scopes import ScopePlanner


def planner(home: Path) -> tuple[ScopePlanner, AuthStore]:
    events = EventBus()
    auth = AuthStore(home, events)
    return ScopePlanner(McpManager(events), auth, {}), auth


def config(home: Path, command: str) -> AppConfig:
    (home / "config.toml").write_text(f'[mcp_servers.docs]\ncommand = "{command}"\n')
    return load_config(home)


def test_one_config_is_resolved_once_and_another_config_afresh(tmp_path: Path) -> None:
    scopes, _ = planner(tmp_path)
    first = config(tmp_path, "docs-mcp")

    view = scopes.effective(first)

    assert scopes.effective(first) is view
    other = scopes.effective(config(tmp_path, "other-mcp"))
    assert other is not view
    assert other.servers["docs"].command == "other-mcp"  # type: ignore[union-attr]


def test_a_new_account_kind_resolves_the_view_again(tmp_path: Path) -> None:
    scopes, auth = planner(tmp_path)
    shared = config(tmp_path, "docs-mcp")
    view = scopes.effective(shared)

    auth.login_api_key("sk-test")

    assert scopes.effective(shared) is not view
