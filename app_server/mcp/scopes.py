"""Scopes: the one path from a config to an MCP runtime cell, for the app level and threads alike.

config -> configured view -> runtime view (contributor overlays) -> effective view (auth and apps
gating) -> a planned generation of a cell, or a new cell. Thread startup, refresh, status and
threadless requests all resolve servers here, so they always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app_server.auth import AccountKind, AuthStore
from app_server.config.app_config import AppConfig
from app_server.mcp import views
from app_server.mcp.apps import AppsContributor, AppsSettings
from app_server.mcp.client import RuntimeContext, ServerConfig
from app_server.mcp.contributors import ContributorRegistry
from app_server.mcp.manager import McpManager, Plan
from app_server.mcp.runtime import RuntimeCell
from protocol.views import McpServerViewsReadResponse


@dataclass(frozen=True)
class EffectiveServers:
    """The effective view of one scope, in the shape the manager plans from."""

    servers: Mapping[str, ServerConfig]
    plugin_ids: Mapping[str, str]


class ScopePlanner:
    """Resolves a scope's servers from its config and plans or opens its cell."""

    def __init__(self, manager: McpManager, auth: AuthStore, environ: Mapping[str, str]) -> None:
        self._manager = manager
        self._auth = auth
        self._environ = environ
        self._contributors = ContributorRegistry([AppsContributor()])
        self._last: tuple[AppConfig, AccountKind, EffectiveServers] | None = None

    def effective(self, config: AppConfig) -> EffectiveServers:
        """configured -> runtime (contributor overlays) -> effective (auth and apps gating).

        The last answer is kept for the same config object and account kind: a reload plans every
        thread without overrides of its own under one config, so it resolves the view once.
        """
        if self._last is not None and self._last[0] is config and self._last[1] == self._auth.kind:
            return self._last[2]
        resolved = self._resolve(config)
        self._last = (config, self._auth.kind, resolved)
        return resolved

    def _resolve(self, config: AppConfig) -> EffectiveServers:
        apps = AppsSettings.from_config(config, self._environ)
        contributions = self._contributors.contributions(config, self._environ)
        entries = views.effective(
            views.runtime(views.configured(config), contributions, apps), self._auth.kind, apps
        )
        return EffectiveServers(
            servers={entry.name: entry.config for entry in entries},
            plugin_ids={
                entry.name: entry.provenance.plugin_id for entry in entries if entry.provenance.plugin_id
            },
        )

    def views(self, config: AppConfig) -> McpServerViewsReadResponse:
        """The three views of `config`, each entry with its provenance."""
        apps = AppsSettings.from_config(config, self._environ)
        contributions = self._contributors.contributions(config, self._environ)
        return views.views_snapshot(config, contributions, self._auth.kind, apps)

    def open(
        self, config: AppConfig, context: RuntimeContext, *, thread_id: str | None = None
    ) -> RuntimeCell:
        """A new cell whose first generation holds every enabled effective server of `config`.

        A thread's cell (`thread_id` set) is not announced until `announce`. Raises InvalidParams
        as `McpManager.plan`.
        """
        scope = self.effective(config)
        plan = self._manager.plan(
            None, scope.servers, context, plugin_ids=scope.plugin_ids, thread_id=thread_id
        )
        return self._manager.publish(plan, announced=thread_id is None)

    def announce(self, cell: RuntimeCell) -> None:
        """Tell clients the startup states of a thread's cell, from now on (after `thread/started`)."""
        self._manager.announce(cell)

    def plan(self, cell: RuntimeCell, config: AppConfig, context: RuntimeContext) -> Plan:
        """The next generation of `cell` under `config` (nothing is touched until it is published).

        Raises InvalidParams as `McpManager.plan`.
        """
        scope = self.effective(config)
        return self._manager.plan(cell, scope.servers, context, plugin_ids=scope.plugin_ids)

    def publish(self, plan: Plan) -> None:
        """Swap a planned generation in (its new servers start in the background)."""
        self._manager.publish(plan)

    def close(self, cell: RuntimeCell) -> None:
        """Retire a cell for good; its servers stop when its last lease goes."""
        self._manager.close_cell(cell)
