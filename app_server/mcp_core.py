"""The MCP half of the core: the manager, the scope planner, OAuth, the app-level cell, reload.

Importing it imports the mcp SDK (~0.5 s), so `AppCore` builds it in the background once the
light half answers. It owns the one rule that joins config and runtime: a refresh reads config
once, plans a new generation for the app-level cell and for every loaded thread, and publishes
only if every plan succeeded; a config that fails to load leaves every running generation as it
was.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping
from pathlib import Path

import anyio
import anyio.abc
import anyio.to_thread
import httpx2

from app_server.auth import AuthStore
from app_server.config.loader import CONFIG_FILE_NAME
from app_server.config.reader import ConfigReader
from app_server.config.servers import HttpServerConfig
from app_server.errors import ConfigError
from app_server.events import EventBus
from app_server.mcp.apps import CODEX_APPS, codex_apps_auth_headers
from app_server.mcp.client import RuntimeContext
from app_server.mcp.connectors import watch_app_list
from app_server.mcp.manager import McpManager
from app_server.mcp.oauth.credentials import CredentialStore
from app_server.mcp.oauth.login import LoginSettings
from app_server.mcp.oauth.service import OAuthService
from app_server.mcp.runtime import RuntimeCell
from app_server.mcp.scopes import ScopePlanner
from app_server.threads.service import ThreadService

logger = logging.getLogger(__name__)

APP_CONTEXT = RuntimeContext(cwd=Path.cwd())
"""The app level runs its servers where the daemon runs, as a thread started without a cwd does:
so an IDE's threads in its workspace share the app level's processes."""


class McpCore:
    """Requests that need MCP connections reach these; run it with `await task_group.start(mcp.run)`."""

    def __init__(
        self,
        home: Path,
        events: EventBus,
        *,
        environ: Mapping[str, str],
        auth: AuthStore,
        configs: ConfigReader,
        threads: ThreadService,
        credentials: CredentialStore,
    ) -> None:
        self._events = events
        self._auth = auth
        self._configs = configs
        self._threads = threads
        config = configs.current
        self.oauth = OAuthService(
            events,
            credentials,
            LoginSettings.from_config(config),
            on_login_success=self._after_login,
        )
        self.manager = McpManager(
            events,
            home=home,
            auth_for=self._http_auth,
            auth_status_for=self.oauth.auth_status,
            credentials_for=self.oauth.credential_generation,
        )
        self.scopes = ScopePlanner(self.manager, auth, environ)
        self._app_cell: RuntimeCell | None = None
        self._reload_lock = anyio.Lock()
        self._edit_lock = anyio.Lock()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start the manager, the app-level servers and those of the threads loaded so far; serve
        until cancelled."""
        async with anyio.create_task_group() as tg:
            await tg.start(self.manager.run)
            await tg.start(self.oauth.run)
            self._app_cell = self.scopes.open(self._configs.current, APP_CONTEXT)
            self._threads.attach(self.scopes)
            await tg.start(watch_app_list, self._app_cell, self._events)
            task_status.started()

    def cell_for(self, thread_id: str | None) -> RuntimeCell:
        """The thread's runtime cell, or the app-level one for threadless requests.

        Raises InvalidParams when the thread is not loaded (or its servers cannot be planned).
        """
        if thread_id is not None:
            return self._threads.cell(thread_id)
        assert self._app_cell is not None, "the MCP core is not running"
        return self._app_cell

    def _http_auth(self, name: str, config: HttpServerConfig) -> httpx2.Auth | None:
        """The ChatGPT account authenticates `codex_apps`; stored OAuth tokens the others."""
        if name == CODEX_APPS:
            headers = codex_apps_auth_headers(config, self._auth)
            return StaticHeadersAuth(headers) if headers else None
        return self.oauth.auth_for(name, config)

    # ---- refresh -------------------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read config and publish a new generation for every cell, all or nothing.

        Raises ConfigError (nothing changes) when config.toml or a thread's overrides do not load,
        InvalidParams when a plan cannot be made (nothing changes either).
        """
        async with self._reload_lock:
            staged = self._configs.read()
            plans = [self.scopes.plan(self.cell_for(None), staged.config, APP_CONTEXT)]
            plans.extend(self._threads.plans(staged))
            self.manager.refresh(plans)
            self._configs.adopt(staged)
            self.oauth.settings = LoginSettings.from_config(staged.config)

    async def approve_tool(self, server: str, tool: str) -> None:
        """Write "always approve" for the tool into config.toml and reload (servers whose config
        changed only in `tools` keep running, see `pool.py`).

        Raises RequestFailed when config.toml does not declare the server or cannot be edited
        cleanly, ConfigError when it does not load any more (the edit is kept, nothing else changes).
        """
        from app_server.config.editing.edits import approve_tool

        async with self._edit_lock:
            await anyio.to_thread.run_sync(approve_tool, self._configs.home / CONFIG_FILE_NAME, server, tool)
        await self.reload()

    async def reload_logged(self) -> None:
        """`reload` in the background (the account or a login changed): a config that does not load
        is logged, not raised."""
        try:
            await self.reload()
        except ConfigError as exc:
            logger.warning("could not refresh MCP servers:\n%s", exc.message)

    async def _after_login(self, _server: str) -> None:
        """New credentials: refresh every cell so the server comes up with its tools."""
        await self.reload_logged()


class StaticHeadersAuth(httpx2.Auth):
    """Adds fixed headers to every request (the account's ChatGPT token for `codex_apps`)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def __repr__(self) -> str:
        return f"StaticHeadersAuth(headers={sorted(self._headers)})"

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers.update(self._headers)
        yield request
