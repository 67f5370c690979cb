"""The three server views, pure functions: configured -> runtime (contributor overlays) -> effective (gated).

Rules:
- runtime: overlays apply in registration order, later wins for a name; a name disabled in the
  configured view (`enabled = false`) stays disabled whatever an overlay says; with the Apps
  feature off a `codex_apps` entry is removed for every host.
- effective: when a contributor named `codex_apps` (the apps extension is installed), the entry
  survives only with Apps on and ChatGPT auth. Otherwise the legacy built-in inserts it (over a
  user entry) with Apps on and ChatGPT auth, and removes it in every other case.
Every entry carries provenance saying which of these rules put it where it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app_server.auth import AccountKind
from app_server.config.app_config import AppConfig
from app_server.config.entries import Provenance, ServerEntry
from app_server.mcp.apps import CODEX_APPS, AppsSettings
from app_server.mcp.contributors import Contribution, Remove

if TYPE_CHECKING:
    from protocol.views import McpServerViewEntry, McpServerViewsReadResponse

APPS_GATE = "Apps feature on and ChatGPT auth"


@dataclass(frozen=True)
class RuntimeView:
    """The runtime entries; `codex_apps_contributed` turns the legacy `codex_apps` built-in off."""

    entries: tuple[ServerEntry, ...]
    codex_apps_contributed: bool


def configured(config: AppConfig) -> tuple[ServerEntry, ...]:
    """User servers, then plugin servers whose names the user did not take (resolved by the loader)."""
    return tuple(config.mcp_servers.values())


def runtime(
    configured: Sequence[ServerEntry], contributions: Iterable[Contribution], apps: AppsSettings
) -> RuntimeView:
    """`configured` with every contribution's overlays applied, in order."""
    declared = {entry.name: entry for entry in configured}
    entries = dict(declared)
    contributed = False
    for contribution in contributions:
        for overlay in contribution.overlays:
            contributed = contributed or overlay.name == CODEX_APPS
            if isinstance(overlay, Remove):
                entries.pop(overlay.name, None)
                continue
            provenance = Provenance(source="contributor", contributor=contribution.contributor)
            entry = ServerEntry(name=overlay.name, config=overlay.config, provenance=provenance)
            entries[overlay.name] = _keep_disabled(entry, declared.get(overlay.name))
    if not apps.enabled:
        entries.pop(CODEX_APPS, None)
    return RuntimeView(entries=tuple(entries.values()), codex_apps_contributed=contributed)


def effective(runtime: RuntimeView, account: AccountKind, apps: AppsSettings) -> tuple[ServerEntry, ...]:
    """`runtime` after the `codex_apps` gate (extension installed) or the legacy built-in (not installed)."""
    entries = {entry.name: entry for entry in runtime.entries}
    allowed = apps.enabled and account == "chatgpt"
    current = entries.get(CODEX_APPS)
    if not allowed:
        entries.pop(CODEX_APPS, None)
    elif runtime.codex_apps_contributed:
        if current is not None:
            gated = current.provenance.model_copy(
                update={"gating": _joined(current.provenance.gating, APPS_GATE)}
            )
            entries[CODEX_APPS] = current.model_copy(update={"provenance": gated})
    else:
        provenance = Provenance(source="builtin", gating=f"legacy built-in: {APPS_GATE}")
        builtin = ServerEntry(name=CODEX_APPS, config=apps.server, provenance=provenance)
        entries[CODEX_APPS] = _keep_disabled(builtin, current)
    return tuple(entries.values())


def views_snapshot(
    config: AppConfig, contributions: Iterable[Contribution], account: AccountKind, apps: AppsSettings
) -> McpServerViewsReadResponse:
    """The `mcpServer/views/read` result: all three views with provenance, secrets redacted."""
    # Imported here: `thread/start` computes the views (is a server `required`?) but renders none,
    # and the wire models of the views (and of the server status they share) are not built for it.
    from protocol.views import McpServerViewsReadResponse

    configured_view = configured(config)
    runtime_view = runtime(configured_view, contributions, apps)
    return McpServerViewsReadResponse(
        configured=[_wire(entry) for entry in configured_view],
        runtime=[_wire(entry) for entry in runtime_view.entries],
        effective=[_wire(entry) for entry in effective(runtime_view, account, apps)],
    )


def _keep_disabled(entry: ServerEntry, previous: ServerEntry | None) -> ServerEntry:
    """An entry replacing one that the user disabled stays disabled, and says so."""
    if previous is None or previous.config.enabled or not entry.config.enabled:
        return entry
    rule = f"kept disabled: {previous.provenance.key or previous.name}.enabled = false"
    provenance = entry.provenance.model_copy(
        update={
            "file": previous.provenance.file,
            "key": previous.provenance.key,
            "plugin_id": previous.provenance.plugin_id,
            "gating": _joined(entry.provenance.gating, rule),
        }
    )
    config = entry.config.model_copy(update={"enabled": False})
    return ServerEntry(name=entry.name, config=config, provenance=provenance)


def _joined(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def _wire(entry: ServerEntry) -> McpServerViewEntry:
    from protocol.views import McpServerProvenance, McpServerViewEntry

    return McpServerViewEntry(
        name=entry.name,
        transport=entry.config.transport,
        enabled=entry.config.enabled,
        config=entry.config.redacted(),
        provenance=McpServerProvenance(**entry.provenance.model_dump()),
    )
