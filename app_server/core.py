"""The daemon's services past `initialize`: config, views, account, MCP runtimes and threads.

Built lazily (it imports the mcp SDK, ~0.6 s) so the handshake stays fast. It owns the one rule
that joins config and runtime: a refresh reads config once, plans a new generation for the
app-level cell and for every loaded thread, and publishes only if every plan succeeded; a config
that fails to load leaves every running generation as it was.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2

from app_server.auth import AuthStore
from app_server.config.app_config import AppConfig
from app_server.config.loader import ConfigSource, build_config, read_config_source
from app_server.config.servers import HttpServerConfig, McpServerConfig
from app_server.errors import ConfigError
from app_server.events import EventBus
from app_server.mcp import views
from app_server.mcp.apps import CODEX_APPS, AppsContributor, AppsSettings, codex_apps_auth_headers
from app_server.mcp.client import RuntimeContext
from app_server.mcp.connectors import watch_app_list
from app_server.mcp.contributors import Contribution, ContributorRegistry
from app_server.mcp.manager import McpManager, Plan
from app_server.mcp.oauth.login import LoginSettings
from app_server.mcp.runtime import RuntimeCell
from protocol.views import McpServerViewsReadResponse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EffectiveServers:
    """The effective view of one scope, in the shape the manager plans from."""

    servers: Mapping[str, McpServerConfig]
    plugin_ids: Mapping[str, str]


class AppCore:
    """Everything requests past `initialize` reach; run it with `await task_group.start(core.run)`."""

    def __init__(self, home: Path, events: EventBus, *, cli_overrides: Sequence[str] = ()) -> None:
        from app_server.mcp.oauth.credentials import open_credential_store
        from app_server.mcp.oauth.service import OAuthService

        self.home = home
        self.events = events
        self.cli_overrides = tuple(cli_overrides)
        self.environ: Mapping[str, str] = os.environ
        self.auth = AuthStore(home, events)
        self.contributors = ContributorRegistry([AppsContributor()])
        self._source, self.config = self._initial_config()
        self.oauth = OAuthService(
            events,
            open_credential_store(self.config.mcp_oauth_credentials_store, home),
            LoginSettings.from_config(self.config),
            on_login_success=self._after_login,
        )
        self.manager = McpManager(
            events, home=home, auth_for=self._http_auth, auth_status_for=self.oauth.auth_status_now
        )
        self.app_cell: RuntimeCell | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._reload_lock = anyio.Lock()
        from app_server.threads.service import ThreadService

        self.threads = ThreadService(self)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start the MCP manager and the app-level servers; serve until cancelled."""
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            await tg.start(self.manager.run)
            await tg.start(self.oauth.run)
            await tg.start(self.threads.run)
            scope = self.effective(self.config)
            self.app_cell = self.manager.open_cell(
                scope.servers, RuntimeContext(), plugin_ids=scope.plugin_ids
            )
            await tg.start(watch_app_list, self.app_cell, self.events)
            task_status.started()

    # ---- config and views ----------------------------------------------------------------

    def _initial_config(self) -> tuple[ConfigSource | None, AppConfig]:
        """The config at start; a broken file starts the daemon empty and says why (stderr and clients)."""
        try:
            source = read_config_source(self.home)
            return source, self._announced(build_config(source, cli_overrides=self.cli_overrides))
        except ConfigError as exc:
            logger.error("config.toml could not be loaded; starting with no MCP servers:\n%s", exc.message)
            warning = {
                "summary": "config.toml could not be loaded; no MCP servers were started",
                "details": "\n".join(exc.problems),
            }
            self.events.publish("configWarning", warning)
            return None, AppConfig()

    def _announced(self, config: AppConfig) -> AppConfig:
        """Tell clients about what was ignored in `config` (unknown keys, broken plugins)."""
        for warning in config.warnings:
            self.events.publish("configWarning", warning.to_notification())
        return config

    def config_for(self, thread_overrides: Mapping[str, Any] | None) -> AppConfig:
        """The config of a thread: the last good file, `-c` overrides, then the thread's own overrides.

        Raises ConfigError for overrides that do not validate.
        """
        if self._source is None:
            if thread_overrides:
                empty = ConfigSource(home=self.home, tree={}, positions=None)
                return build_config(empty, thread_overrides=thread_overrides)
            return self.config
        return build_config(self._source, cli_overrides=self.cli_overrides, thread_overrides=thread_overrides)

    def contributions(self, config: AppConfig) -> tuple[Contribution, ...]:
        return self.contributors.contributions(config, self.environ)

    def effective(self, config: AppConfig) -> EffectiveServers:
        """configured -> runtime (contributor overlays) -> effective (auth and apps gating)."""
        apps = AppsSettings.from_config(config, self.environ)
        runtime_view = views.runtime(views.configured(config), self.contributions(config), apps)
        entries = views.effective(runtime_view, self.auth.kind, apps)
        return EffectiveServers(
            servers={entry.name: entry.config for entry in entries},
            plugin_ids={
                entry.name: entry.provenance.plugin_id for entry in entries if entry.provenance.plugin_id
            },
        )

    def views_snapshot(self, thread_overrides: Mapping[str, Any] | None = None) -> McpServerViewsReadResponse:
        config = self.config_for(thread_overrides) if thread_overrides else self.config
        apps = AppsSettings.from_config(config, self.environ)
        return views.views_snapshot(config, self.contributions(config), self.auth.kind, apps)

    def _http_auth(self, name: str, config: HttpServerConfig) -> httpx2.Auth | None:
        """The ChatGPT account authenticates `codex_apps`; stored OAuth tokens the others."""
        if name == CODEX_APPS:
            headers = codex_apps_auth_headers(config, self.auth)
            return StaticHeadersAuth(headers) if headers else None
        return self.oauth.auth_for(name, config)

    # ---- refresh -------------------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read config and publish a new generation for every cell, all or nothing.

        Raises ConfigError (nothing changes) when config.toml or a thread's overrides do not load,
        InvalidParams when a plan cannot be made (nothing changes either).
        """
        async with self._reload_lock:
            source = read_config_source(self.home)
            config = build_config(source, cli_overrides=self.cli_overrides)
            plans = [self._plan_app(config)]
            for thread in self.threads.loaded():
                thread_config = build_config(
                    source, cli_overrides=self.cli_overrides, thread_overrides=thread.overrides
                )
                plans.append(self.threads.plan(thread, thread_config))
            self.manager.refresh(plans)
            self._source, self.config = source, self._announced(config)
            self.oauth.settings = LoginSettings.from_config(config)

    def _plan_app(self, config: AppConfig) -> Plan:
        assert self.app_cell is not None
        scope = self.effective(config)
        return self.manager.plan(self.app_cell, scope.servers, RuntimeContext(), plugin_ids=scope.plugin_ids)

    def schedule_reload(self) -> None:
        """Refresh in the background (the account changed, so the effective view may have)."""
        if self._task_group is not None:
            self._task_group.start_soon(self._reload_logged)

    async def _reload_logged(self) -> None:
        try:
            await self.reload()
        except ConfigError as exc:
            logger.warning("could not refresh MCP servers:\n%s", exc.message)

    async def _after_login(self, _server: str) -> None:
        """New credentials: refresh every cell so the server comes up with its tools."""
        await self._reload_logged()


class StaticHeadersAuth(httpx2.Auth):
    """Adds fixed headers to every request (the account's ChatGPT token for `codex_apps`)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def __repr__(self) -> str:
        return f"StaticHeadersAuth(headers={sorted(self._headers)})"

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers.update(self._headers)
        yield request
