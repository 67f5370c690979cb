"""Connector discovery: the apps of `codex_apps` (from its tools' `_meta`), paging, `app/list/updated`.

Only `codex_apps` may attribute a tool to a connector: `catalog` strips the `connector_*` keys from
the tools of every other server as it lists them, so a server cannot pose as a hosted app.
Connectors are read from a generation's captured catalog, so `app/list` and a step that leased the
same generation agree on which connector a tool belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from app_server.events import EventBus
from app_server.mcp.apps import CODEX_APPS
from app_server.mcp.paging import page_bounds
from protocol.apps import AppInfo
from protocol.items import McpToolCallAppContext
from protocol.notifications import AppListUpdatedNotification

if TYPE_CHECKING:
    from app_server.mcp.catalog import ToolRef, WireDict
    from app_server.mcp.runtime import McpRuntime, RuntimeCell


def _connector_id(definition: Mapping[str, Any]) -> str | None:
    meta = definition.get("_meta")
    value = meta.get("connector_id") if isinstance(meta, Mapping) else None
    return value if isinstance(value, str) and value.strip() else None


def connector_attribution(ref: ToolRef | None) -> McpToolCallAppContext | None:
    """The mcpToolCall item's `appContext` for a `codex_apps` tool that names its connector, else None:
    the connector, its display name (`appName`) and the tool called (`actionName`)."""
    if ref is None or ref.server != CODEX_APPS:
        return None
    connector_id = _connector_id(ref.definition)
    if connector_id is None:
        return None
    name = ref.definition["_meta"].get("connector_name")
    return McpToolCallAppContext(
        connector_id=connector_id,
        app_name=name if isinstance(name, str) and name.strip() else None,
        action_name=ref.tool,
    )


def connectors_of(runtime: McpRuntime) -> list[WireDict]:
    """The apps of the generation's `codex_apps` tools, one per connector id, sorted by name then id.

    Empty when the generation has no `codex_apps` or it is not (yet) ready. The first tool (by raw
    name) of a connector supplies its name and description.
    """
    definitions = sorted(
        (ref.tool, ref.definition) for ref in runtime.tool_index().values() if ref.server == CODEX_APPS
    )
    apps: dict[str, AppInfo] = {}
    for _tool, definition in definitions:
        connector_id = _connector_id(definition)
        if connector_id is None or connector_id in apps:
            continue
        meta = definition["_meta"]
        name, description = meta.get("connector_name"), meta.get("connector_description")
        apps[connector_id] = AppInfo(
            id=connector_id,
            name=name if isinstance(name, str) and name.strip() else connector_id,
            description=description if isinstance(description, str) else None,
            is_accessible=True,
            is_enabled=True,
        )
    ordered = sorted(apps.values(), key=lambda app: (app.name.casefold(), app.id))
    return [app.to_wire() for app in ordered]


async def settled_connectors(runtime: McpRuntime) -> list[WireDict]:
    """`connectors_of` once `codex_apps` finished starting (bounded by its startup timeout)."""
    slot = runtime.slots.get(CODEX_APPS)
    if slot is not None and slot.connection is not None:
        await slot.connection.wait_settled()
    return connectors_of(runtime)


def page(
    items: Sequence[WireDict], cursor: str | None, limit: int | None
) -> tuple[list[WireDict], str | None]:
    """One page of apps and the next cursor. Raises InvalidParams for a bad cursor."""
    start, end, next_cursor = page_bounds(cursor, limit, len(items), what="apps")
    return list(items[start:end]), next_cursor


async def watch_app_list(
    cell: RuntimeCell,
    events: EventBus,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Publish `app/list/updated` each time a new generation of `cell` settles with a different app set.

    The first generation sets the baseline; a generation replaced before its `codex_apps` settled
    is skipped, so a burst of refreshes announces only where it ended.
    """
    known: list[WireDict] | None = None
    changed = cell.changed
    task_status.started()
    while True:
        with cell.lease() as runtime:
            current = await settled_connectors(runtime)
        if not changed.is_set():
            if known is not None and current != known:
                events.publish(AppListUpdatedNotification.model_validate({"data": current}))
            known = current
        await changed.wait()
        changed = cell.changed
