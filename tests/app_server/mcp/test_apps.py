"""The hosted apps contributor: URL rules, headers, token source, Set/Remove by feature flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_server.auth import AuthStore
from app_server.config.app_config import AppConfig, Features
from app_server.config.loader import load_config
from app_server.events import EventBus
from app_server.mcp.apps import (
    CODEX_APPS,
    CONNECTORS_TOKEN_ENV,
    PRODUCT_SKU_HEADER,
    AppsContributor,
    apps_mcp_url,
    codex_apps_auth_headers,
    codex_apps_config,
)
from app_server.mcp.contributors import Remove, Set
from tests.support.config import write_config


@pytest.mark.parametrize(
    ("base_url", "override", "url"),
    [
        ("https://chatgpt.com/backend-api", None, "https://chatgpt.com/backend-api/wham/apps"),
        ("https://chatgpt.com/backend-api/", None, "https://chatgpt.com/backend-api/wham/apps"),
        ("https://chatgpt.com", None, "https://chatgpt.com/backend-api/wham/apps"),
        ("https://chat.openai.com", None, "https://chat.openai.com/backend-api/wham/apps"),
        ("http://localhost:8080/api/codex", None, "http://localhost:8080/api/codex/apps"),
        ("http://localhost:8080", None, "http://localhost:8080/api/codex/apps"),
        ("https://chatgpt.com", "/custom/mcp", "https://chatgpt.com/backend-api/custom/mcp"),
        ("https://chatgpt.com", "/ps/mcp", "https://chatgpt.com/backend-api/ps/mcp"),
        ("http://localhost:8080", "/ps/mcp", "http://localhost:8080/api/codex/ps/mcp"),
    ],
)
def test_apps_url_vectors(base_url: str, override: str | None, url: str) -> None:
    assert apps_mcp_url(base_url, override) == url


def test_path_override_true_with_chatgpt_base_gives_ps_mcp(home: Path) -> None:
    write_config(home, chatgpt_base_url="https://chatgpt.com", features={"apps_mcp_path_override": True})
    assert codex_apps_config(load_config(home), {}).url == "https://chatgpt.com/backend-api/ps/mcp"


def test_the_contributed_server_carries_sku_header_and_a_30_second_startup_timeout() -> None:
    config = AppConfig(apps_mcp_product_sku="codex-pro")
    server = codex_apps_config(config, {})
    assert server.url == "https://chatgpt.com/backend-api/wham/apps"
    assert server.http_headers == {PRODUCT_SKU_HEADER: "codex-pro"}
    assert server.startup_timeout_sec == 30.0
    assert server.bearer_token_env_var is None
    assert codex_apps_config(AppConfig(), {}).http_headers == {}


@pytest.mark.parametrize(("value", "env_var"), [("tok", CONNECTORS_TOKEN_ENV), ("  ", None), (None, None)])
def test_the_connectors_token_is_used_only_when_set_and_not_blank(
    value: str | None, env_var: str | None
) -> None:
    environ = {} if value is None else {CONNECTORS_TOKEN_ENV: value}
    assert codex_apps_config(AppConfig(), environ).bearer_token_env_var == env_var


def test_the_contributor_sets_with_apps_on_and_removes_with_apps_off() -> None:
    contributor = AppsContributor()
    on = contributor.contribute(AppConfig(), {})
    assert on == [Set(CODEX_APPS, codex_apps_config(AppConfig(), {}))]
    assert contributor.contribute(AppConfig(features=Features(apps=False)), {}) == [Remove(CODEX_APPS)]


def test_account_headers_carry_the_chatgpt_token_unless_the_connectors_token_is_used(home: Path) -> None:
    auth = AuthStore(home, EventBus())
    server = codex_apps_config(AppConfig(), {})
    assert codex_apps_auth_headers(server, auth) == {}
    auth.login_chatgpt_tokens("access-1", "acct-1", "plus")
    assert codex_apps_auth_headers(server, auth) == {
        "Authorization": "Bearer access-1",
        "ChatGPT-Account-Id": "acct-1",
    }
    with_env = codex_apps_config(AppConfig(), {CONNECTORS_TOKEN_ENV: "t"})
    assert codex_apps_auth_headers(with_env, auth) == {}
