"""The hosted apps extension: contributes the reserved `codex_apps` server (streamable HTTP, nothing spawned).

Authentication: when `CODEX_CONNECTORS_TOKEN` is set and not blank, the entry names it in
`bearer_token_env_var` and connects like any other server. Otherwise the connection layer adds
`codex_apps_auth_headers(auth)` (the account's ChatGPT access token and account id) at connect
time. Tokens are never stored in the config, so a token refresh does not change the config and
never shows in a view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app_server.auth import AuthStore
from app_server.config.app_config import AppConfig
from app_server.config.servers import HttpServerConfig
from app_server.mcp.contributors import Overlay, Remove, Set

CODEX_APPS = "codex_apps"
"""The reserved server name of the hosted apps."""
APPS_CONTRIBUTOR_NAME = "apps"
CONNECTORS_TOKEN_ENV = "CODEX_CONNECTORS_TOKEN"
PRODUCT_SKU_HEADER = "X-OpenAI-Product-Sku"
ACCOUNT_ID_HEADER = "ChatGPT-Account-Id"
APPS_STARTUP_TIMEOUT_SEC = 30.0

_CHATGPT_HOSTS = ("https://chatgpt.com", "https://chat.openai.com")


def apps_mcp_url(chatgpt_base_url: str, path_override: str | None = None) -> str:
    """The `codex_apps` URL for a base URL and the optional path override (`/ps/mcp`, or configured).

    ChatGPT hosts get `/backend-api` when they lack it; under `/backend-api` the default path is
    `wham/apps`, under `/api/codex` it is `apps`; any other base gets `/api/codex` then `apps`.
    """
    base = chatgpt_base_url.strip().rstrip("/")
    if base.startswith(_CHATGPT_HOSTS) and "/backend-api" not in base:
        base += "/backend-api"
    if "/backend-api" in base:
        default_path = "wham/apps"
    elif "/api/codex" in base:
        default_path = "apps"
    else:
        base += "/api/codex"
        default_path = "apps"
    path = path_override.strip("/") if path_override else default_path
    return f"{base}/{path}"


@dataclass(frozen=True)
class AppsSettings:
    """What decides `codex_apps`: the Apps feature and the server config the extension would contribute."""

    enabled: bool
    server: HttpServerConfig

    @classmethod
    def from_config(cls, config: AppConfig, environ: Mapping[str, str]) -> AppsSettings:
        return cls(enabled=config.features.apps, server=codex_apps_config(config, environ))


def codex_apps_config(config: AppConfig, environ: Mapping[str, str]) -> HttpServerConfig:
    """The streamable HTTP config of `codex_apps` for this config and environment."""
    headers = {PRODUCT_SKU_HEADER: config.apps_mcp_product_sku} if config.apps_mcp_product_sku else {}
    has_connectors_token = bool(environ.get(CONNECTORS_TOKEN_ENV, "").strip())
    return HttpServerConfig(
        url=apps_mcp_url(config.chatgpt_base_url, config.features.apps_mcp_path_override),
        http_headers=headers,
        bearer_token_env_var=CONNECTORS_TOKEN_ENV if has_connectors_token else None,
        startup_timeout_sec=APPS_STARTUP_TIMEOUT_SEC,
    )


def codex_apps_auth_headers(server: HttpServerConfig, auth: AuthStore) -> dict[str, str]:
    """Headers the connection layer adds to `codex_apps` requests: the account's ChatGPT token.

    Empty when the server authenticates through `bearer_token_env_var` or there is no ChatGPT
    account (the effective view drops `codex_apps` then anyway).
    """
    token, account_id = auth.chatgpt_access_token(), auth.chatgpt_account_id()
    if server.bearer_token_env_var or token is None or account_id is None:
        return {}
    return {"Authorization": f"Bearer {token}", ACCOUNT_ID_HEADER: account_id}


class AppsContributor:
    """The hosted apps contributor: `Set(codex_apps)` with Apps on, `Remove(codex_apps)` with Apps off."""

    name = APPS_CONTRIBUTOR_NAME

    def contribute(self, config: AppConfig, environ: Mapping[str, str]) -> Sequence[Overlay]:
        if not config.features.apps:
            return [Remove(CODEX_APPS)]
        return [Set(CODEX_APPS, codex_apps_config(config, environ))]
