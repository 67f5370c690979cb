"""The configured, runtime and effective views: overlay order, disabled names, the `codex_apps` rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_server.auth import AccountKind
from app_server.config.app_config import AppConfig, Features
from app_server.config.entries import Provenance, ServerEntry
from app_server.config.loader import load_config
from app_server.config.servers import REDACTED, HttpServerConfig, StdioServerConfig
from app_server.mcp.apps import CODEX_APPS, AppsContributor, AppsSettings
from app_server.mcp.contributors import Contribution, ContributorRegistry, Remove, Set
from app_server.mcp.views import configured, effective, runtime, views_snapshot

USER_APPS = '[mcp_servers.codex_apps]\nurl = "https://example.test/mine"\n'


def load(home: Path, text: str = "", *overrides: str) -> AppConfig:
    (home / "config.toml").write_text(text)
    return load_config(home, cli_overrides=overrides)


def views(
    config: AppConfig, *, extension: bool, account: AccountKind
) -> tuple[dict[str, ServerEntry], dict[str, ServerEntry]]:
    registry = ContributorRegistry([AppsContributor()] if extension else [])
    apps = AppsSettings.from_config(config, {})
    runtime_view = runtime(configured(config), registry.contributions(config, {}), apps)
    effective_view = effective(runtime_view, account, apps)
    return {e.name: e for e in runtime_view.entries}, {e.name: e for e in effective_view}


def test_the_extension_contributes_codex_apps_at_ps_mcp_without_any_executor(home: Path) -> None:
    config = load(home, "[features]\napps_mcp_path_override = true\n")
    runtime_view, effective_view = views(config, extension=True, account="chatgpt")
    entry = effective_view[CODEX_APPS]
    assert isinstance(entry.config, HttpServerConfig)
    assert entry.config.url == "https://chatgpt.com/backend-api/ps/mcp"
    assert entry.provenance.contributor == "apps"
    assert entry.provenance.gating == "Apps feature on and ChatGPT auth"
    assert runtime_view[CODEX_APPS].provenance.source == "contributor"


@pytest.mark.parametrize("extension", [True, False])
@pytest.mark.parametrize("account", ["apiKey", "none"])
def test_without_chatgpt_auth_there_is_no_codex_apps_in_effective(
    home: Path, extension: bool, account: AccountKind
) -> None:
    _, effective_view = views(load(home, USER_APPS), extension=extension, account=account)
    assert CODEX_APPS not in effective_view


@pytest.mark.parametrize("extension", [True, False])
def test_apps_disabled_removes_a_user_codex_apps_from_runtime(home: Path, extension: bool) -> None:
    config = load(home, USER_APPS + "[features]\napps = false\n")
    assert CODEX_APPS in config.mcp_servers
    runtime_view, effective_view = views(config, extension=extension, account="chatgpt")
    assert CODEX_APPS not in runtime_view
    assert CODEX_APPS not in effective_view


@pytest.mark.parametrize("extension", [True, False])
def test_a_user_disabled_codex_apps_stays_disabled(home: Path, extension: bool) -> None:
    config = load(home, USER_APPS + "enabled = false\n")
    runtime_view, effective_view = views(config, extension=extension, account="chatgpt")
    entry = effective_view[CODEX_APPS]
    assert entry.config.enabled is False
    assert isinstance(entry.config, HttpServerConfig)
    assert entry.config.url == "https://chatgpt.com/backend-api/wham/apps"
    assert entry.provenance.gating is not None
    assert "kept disabled: mcp_servers.codex_apps.enabled = false" in entry.provenance.gating
    if extension:
        assert runtime_view[CODEX_APPS].config.enabled is False


def test_legacy_synthesis_overwrites_a_user_codex_apps_url(home: Path) -> None:
    runtime_view, effective_view = views(load(home, USER_APPS), extension=False, account="chatgpt")
    assert runtime_view[CODEX_APPS].config.url == "https://example.test/mine"  # type: ignore[union-attr]
    entry = effective_view[CODEX_APPS]
    assert entry.config.url == "https://chatgpt.com/backend-api/wham/apps"  # type: ignore[union-attr]
    assert entry.provenance.source == "builtin"
    assert entry.provenance.gating == "legacy built-in: Apps feature on and ChatGPT auth"


def test_legacy_synthesis_inserts_codex_apps_with_chatgpt_auth(home: Path) -> None:
    runtime_view, effective_view = views(load(home), extension=False, account="chatgpt")
    assert CODEX_APPS not in runtime_view
    assert CODEX_APPS in effective_view


def test_any_contribution_naming_codex_apps_turns_the_legacy_synthesis_off() -> None:
    config = AppConfig()
    apps = AppsSettings.from_config(config, {})
    runtime_view = runtime((), [Contribution("other", (Remove(CODEX_APPS),))], apps)
    assert runtime_view.codex_apps_contributed is True
    assert CODEX_APPS not in {e.name for e in effective(runtime_view, "chatgpt", apps)}


def entry(name: str, command: str, *, enabled: bool = True) -> ServerEntry:
    config = StdioServerConfig(command=command, enabled=enabled)
    return ServerEntry(
        name=name, config=config, provenance=Provenance(source="config", key=f"mcp_servers.{name}")
    )


@pytest.mark.parametrize(
    ("contributions", "expected"),
    [
        ([("a", (Set("x", StdioServerConfig(command="1")),)), ("b", (Remove("x"),))], None),
        ([("a", (Remove("x"),)), ("b", (Set("x", StdioServerConfig(command="2")),))], ("2", "b")),
        (
            [
                ("a", (Set("x", StdioServerConfig(command="1")),)),
                ("b", (Set("x", StdioServerConfig(command="2")),)),
            ],
            ("2", "b"),
        ),
        ([("a", (Set("x", StdioServerConfig(command="1")), Remove("x")))], None),
        ([], ("user", None)),
    ],
)
def test_overlays_apply_in_order_and_the_later_wins(
    contributions: list[tuple[str, tuple[Set | Remove, ...]]], expected: tuple[str, str | None] | None
) -> None:
    apps = AppsSettings.from_config(AppConfig(), {})
    view = runtime([entry("x", "user")], [Contribution(n, o) for n, o in contributions], apps)
    found = {e.name: e for e in view.entries}.get("x")
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.config.command, found.provenance.contributor) == expected  # type: ignore[union-attr]


def test_a_name_disabled_in_configured_stays_disabled_after_a_set() -> None:
    apps = AppsSettings.from_config(AppConfig(), {})
    overlay = Contribution("ext", (Set("x", StdioServerConfig(command="new")),))
    (found,) = runtime([entry("x", "user", enabled=False)], [overlay], apps).entries
    assert found.config.enabled is False
    assert found.config.command == "new"  # type: ignore[union-attr]
    assert found.provenance.key == "mcp_servers.x"
    assert found.provenance.gating == "kept disabled: mcp_servers.x.enabled = false"


def test_every_entry_of_every_view_has_provenance(home: Path) -> None:
    plugin = home / "plugins" / "p" / ".codex-plugin"
    plugin.mkdir(parents=True)
    (plugin / "plugin.json").write_text('{"mcpServers": ".mcp.json"}')
    (plugin.parent / ".mcp.json").write_text('{"from_plugin": {"command": "x"}}')
    config = load(home, '[mcp_servers.docs]\ncommand = "npx"\n')
    snapshot = views_snapshot(
        config,
        ContributorRegistry([AppsContributor()]).contributions(config, {}),
        "chatgpt",
        AppsSettings.from_config(config, {}),
    )
    wire = snapshot.to_wire()
    views = ("configured", "runtime", "effective")
    sources = {view: {e["name"]: e["provenance"]["source"] for e in wire[view]} for view in views}
    assert sources == {
        "configured": {"docs": "config", "from_plugin": "plugin"},
        "runtime": {"docs": "config", "from_plugin": "plugin", CODEX_APPS: "contributor"},
        "effective": {"docs": "config", "from_plugin": "plugin", CODEX_APPS: "contributor"},
    }
    docs = wire["configured"][0]["provenance"]
    assert docs == {"source": "config", "file": str(home / "config.toml"), "key": "mcp_servers.docs"}
    assert wire["configured"][1]["provenance"]["pluginId"] == "p"


def test_the_snapshot_redacts_secrets(home: Path) -> None:
    config = load(
        home,
        '[mcp_servers.web]\nurl = "http://h"\nhttp_headers = { Authorization = "Bearer s3cret" }\n'
        '[mcp_servers.cli]\ncommand = "x"\nenv = { TOKEN = "s3cret" }\n',
    )
    apps = AppsSettings.from_config(config, {})
    wire = views_snapshot(config, (), "apiKey", apps).to_wire()
    assert "s3cret" not in str(wire)
    assert wire["effective"][0]["config"]["http_headers"] == {"Authorization": REDACTED}
    assert wire["effective"][1]["transport"] == "stdio"
    assert "s3cret" not in repr(config)


def test_features_off_config_is_respected_by_apps_settings() -> None:
    assert AppsSettings.from_config(AppConfig(features=Features(apps=False)), {}).enabled is False
