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
from pathlib import Path

import anyio
import anyio.abc
import httpx2

from app_server.auth import AuthStore
from app_server.config.reader import ConfigReader
from app_server.config.servers import HttpServerConfig
from app_server.errors import ConfigError
from app_server.events import EventBus
from app_server.mcp.apps import CODEX_APPS, codex_apps_auth_headers
from app_server.mcp.client import RuntimeContext
from app_server.mcp.connectors import watch_app_list
from app_server.mcp.manager import McpManager
from app_server.mcp.oauth.login import LoginSettings
from app_server.mcp.runtime import RuntimeCell
from app_server.mcp.scopes import ScopePlanner
from app_server.model.client import ModelClient
from app_server.model.provider import api_key_for, providers_from_table, resolve_provider
from app_server.threads.records import ThreadHeader
from app_server.threads.service import ThreadService
from app_server.threads.store import ThreadStore
from protocol.views import McpServerViewsReadResponse

logger = logging.getLogger(__name__)

APP_CONTEXT = RuntimeContext(cwd=Path.cwd())
"""The app level runs its servers where the daemon runs, as a thread started without a cwd does:
so an IDE's threads in its workspace share the app level's processes."""


class AppCore:
    """Everything requests past `initialize` reach; run it with `await task_group.start(core.run)`."""

    def __init__(self, home: Path, events: EventBus, *, cli_overrides: Sequence[str] = ()) -> None:
        from app_server.mcp.oauth.credentials import open_credential_store
        from app_server.mcp.oauth.service import OAuthService

        self.home = home
        self.events = events
        self.environ: Mapping[str, str] = os.environ
        self.auth = AuthStore(home, events)
        self.configs = ConfigReader(home, cli_overrides, events.publish)
        config = self.configs.current
        self.oauth = OAuthService(
            events,
            open_credential_store(config.mcp_oauth_credentials_store, home),
            LoginSettings.from_config(config),
            on_login_success=self._after_login,
        )
        self.manager = McpManager(
            events, home=home, auth_for=self._http_auth, auth_status_for=self.oauth.auth_status_now
        )
        self.scopes = ScopePlanner(self.manager, self.auth, self.environ)
        self.threads = ThreadService(
            ThreadStore(home / "threads"), events, self.scopes, self.configs, self._model_client
        )
        self._app_cell: RuntimeCell | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._reload_lock = anyio.Lock()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start the MCP manager and the app-level servers; serve until cancelled."""
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            await tg.start(self.manager.run)
            await tg.start(self.oauth.run)
            await tg.start(self.threads.run)
            self._app_cell = self.scopes.open(self.configs.current, APP_CONTEXT)
            await tg.start(watch_app_list, self._app_cell, self.events)
            task_status.started()

    def cell_for(self, thread_id: str | None) -> RuntimeCell:
        """The thread's runtime cell, or the app-level one for threadless requests.

        Raises InvalidParams when the thread is not loaded.
        """
        if thread_id is not None:
            return self.threads.get(thread_id).cell
        assert self._app_cell is not None, "the core is not running"
        return self._app_cell

    def views_snapshot(self, thread_id: str | None = None) -> McpServerViewsReadResponse:
        """The three server views of the app level, or of a loaded thread (with its overrides)."""
        overrides = self.threads.get(thread_id).overrides if thread_id is not None else None
        views = self.scopes.views(self.configs.for_thread(overrides))
        views.processes = self.manager.processes()
        return views

    def _http_auth(self, name: str, config: HttpServerConfig) -> httpx2.Auth | None:
        """The ChatGPT account authenticates `codex_apps`; stored OAuth tokens the others."""
        if name == CODEX_APPS:
            headers = codex_apps_auth_headers(config, self.auth)
            return StaticHeadersAuth(headers) if headers else None
        return self.oauth.auth_for(name, config)

    def _model_client(self, settings: ThreadHeader) -> ModelClient:
        """A client for the thread's model provider, with the account's or the environment's key.

        Raises ConfigError/InvalidParams when the provider is not configured.
        """
        config = self.configs.for_thread(settings.config)
        providers = providers_from_table(
            {name: table.as_table() for name, table in config.model_providers.items()}
        )
        provider = resolve_provider(settings.model_provider, providers)
        return ModelClient(provider, api_key_for(provider, self.auth.api_key(), self.environ))

    # ---- refresh -------------------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read config and publish a new generation for every cell, all or nothing.

        Raises ConfigError (nothing changes) when config.toml or a thread's overrides do not load,
        InvalidParams when a plan cannot be made (nothing changes either).
        """
        async with self._reload_lock:
            staged = self.configs.read()
            plans = [self.scopes.plan(self.cell_for(None), staged.config, APP_CONTEXT)]
            plans.extend(self.threads.plans(staged))
            self.manager.refresh(plans)
            self.configs.adopt(staged)
            self.oauth.settings = LoginSettings.from_config(staged.config)

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
