"""The daemon's services past `initialize`, in two halves so that the first replies need no mcp SDK.

`AppCore` is the light half: config, account, the three server views (pure config) and the
threads. It is built right after `initialize` and answers what needs no MCP connection
(`thread/start|list|read|resume`, `account/*`, `mcpServer/views/read`). Once it runs it builds the
MCP half (`app_server.mcp_core.McpCore`: manager, scope planner, OAuth, the app-level cell,
reload) in the background: that half imports the mcp SDK (~0.5 s), in a daemon thread so the
connection keeps answering and an exit meanwhile does not wait for it. Requests that need it
wait in `mcp()`; threads loaded meanwhile get their runtime cells the moment it is up
(`ThreadService.attach`).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from app_server.auth import AuthStore
from app_server.config.app_config import AppConfig
from app_server.config.reader import ConfigReader
from app_server.daemon_thread import run_abandonable
from app_server.events import EventBus
from app_server.mcp import views
from app_server.mcp.apps import AppsContributor, AppsSettings
from app_server.mcp.contributors import ContributorRegistry
from app_server.threads.records import ThreadHeader
from app_server.threads.service import ThreadService
from app_server.threads.store import ThreadStore

if TYPE_CHECKING:
    from app_server.mcp.oauth.credentials import CredentialStore
    from app_server.mcp_core import McpCore
    from app_server.model.client import ModelClient
    from protocol.views import McpServerViewsReadResponse

logger = logging.getLogger(__name__)


def _import_mcp_layer() -> None:
    """What the MCP half and the first turn import: the mcp SDK, the turn machinery (model
    clients, httpx2), and `jsonschema`, which the SDK imports only when it validates its first tool
    result (on the event loop, that first call would stall every connection for tens of ms)."""
    for module in ("jsonschema", "app_server.threads.turns", "app_server.mcp_core"):
        importlib.import_module(module)


class AppCore:
    """Everything requests past `initialize` reach; run it with `await task_group.start(core.run)`."""

    def __init__(self, home: Path, events: EventBus, *, cli_overrides: Sequence[str] = ()) -> None:
        self.home = home
        self.events = events
        self.environ: Mapping[str, str] = os.environ
        self.auth = AuthStore(home, events)
        self.configs = ConfigReader(home, cli_overrides, events.publish)
        self._contributors = ContributorRegistry([AppsContributor()])
        self.threads = ThreadService(
            ThreadStore(home / "threads"),
            events,
            self.configs,
            self._model_client,
            self._has_required_servers,
            persist_approval=self._approve_tool,
        )
        self._mcp: McpCore | None = None
        self._mcp_up = anyio.Event()
        self._task_group: anyio.abc.TaskGroup | None = None

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start the threads, report started, then build and start the MCP half; serve until cancelled."""
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            await tg.start(self.threads.run)
            task_status.started()
            # In daemon threads, abandoned at exit: closing stdin (or SIGTERM) meanwhile does not
            # wait for the import; no child runs yet (the manager, which starts them, comes after).
            await run_abandonable(_import_mcp_layer, name="mcp-layer-import")
            # Choosing the credential store probes the OS keyring (~0.1 s): off the event loop too.
            credentials = await run_abandonable(self.open_credentials, name="mcp-credentials")
            mcp = self.new_mcp_core(credentials)
            await tg.start(mcp.run)
            self._mcp = mcp
            self._mcp_up.set()

    async def mcp(self) -> McpCore:
        """The running MCP half, waiting until it is up."""
        await self._mcp_up.wait()
        assert self._mcp is not None
        return self._mcp

    def open_credentials(self) -> CredentialStore:
        """The OAuth credential store `mcp_oauth_credentials_store` selects (imports the SDK)."""
        from app_server.mcp.oauth.credentials import open_credential_store

        return open_credential_store(self.configs.current.mcp_oauth_credentials_store, self.home)

    def new_mcp_core(self, credentials: CredentialStore) -> McpCore:
        """An MCP half over this core's config, account, threads and `credentials`, not yet running
        (imports the SDK)."""
        from app_server.mcp_core import McpCore

        return McpCore(
            self.home,
            self.events,
            credentials=credentials,
            environ=self.environ,
            auth=self.auth,
            configs=self.configs,
            threads=self.threads,
        )

    def views_snapshot(self, thread_id: str | None = None) -> McpServerViewsReadResponse:
        """The three server views of the app level, or of a loaded thread (with its overrides).

        Raises InvalidParams when the thread is not loaded.
        """
        overrides = self.threads.get(thread_id).overrides if thread_id is not None else None
        config = self.configs.for_thread(overrides)
        apps = AppsSettings.from_config(config, self.environ)
        contributions = self._contributors.contributions(config, self.environ)
        snapshot = views.views_snapshot(config, contributions, self.auth.kind, apps)
        if self._mcp is not None:  # the live connections, once the MCP half is up
            snapshot.processes = self._mcp.manager.processes()
        return snapshot

    def schedule_reload(self) -> None:
        """Refresh in the background once the MCP half is up (the account changed, so the effective
        view may have)."""
        if self._task_group is not None:
            self._task_group.start_soon(self._reload_when_up)

    async def _reload_when_up(self) -> None:
        await (await self.mcp()).reload_logged()

    async def _approve_tool(self, server: str, tool: str) -> None:
        """A tool approved "always" during a turn (which needs the MCP half, so it is up)."""
        await (await self.mcp()).approve_tool(server, tool)

    def _has_required_servers(self, config: AppConfig) -> bool:
        """Whether `config`'s effective view has an enabled `required` server (a thread then waits for it)."""
        apps = AppsSettings.from_config(config, self.environ)
        contributions = self._contributors.contributions(config, self.environ)
        runtime = views.runtime(views.configured(config), contributions, apps)
        effective = views.effective(runtime, self.auth.kind, apps)
        return any(entry.config.enabled and entry.config.required for entry in effective)

    def _model_client(self, settings: ThreadHeader) -> ModelClient:
        """A client for the thread's model provider, with the account's or the environment's key.

        Raises ConfigError/InvalidParams when the provider is not configured.
        """
        # Imported with the first turn (the MCP half's import brings it off the event loop).
        from app_server.model.client import ModelClient
        from app_server.model.provider import api_key_for, providers_from_table, resolve_provider

        config = self.configs.for_thread(settings.config)
        providers = providers_from_table(
            {name: table.as_table() for name, table in config.model_providers.items()}
        )
        provider = resolve_provider(settings.model_provider, providers)
        return ModelClient(provider, api_key_for(provider, self.auth.api_key(), self.environ))
