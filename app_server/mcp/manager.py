"""The MCP manager: plans and publishes generations, supervises connections, serves status.

Planning is pure (what to carry, what to start) so a refresh can plan every cell before publishing
any; publishing swaps the generation in one step and starts the new connections in the background.
A connection is carried into the next generation when its exact config and the runtime context are
unchanged and it has not failed; otherwise a new one is started and the old one stops when the last
generation holding it closes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.abc

from app_server.config.servers import SERVER_NAME_PATTERN, StdioServerConfig
from app_server.errors import InvalidParams, RequestFailed
from app_server.events import EventBus
from app_server.mcp.client import AuthProvider, McpConnection, RuntimeContext, ServerConfig
from app_server.mcp.paging import page_bounds
from app_server.mcp.runtime import McpRuntime, RuntimeCell, ServerSlot
from app_server.mcp.status import (
    AuthStatusProvider,
    StatusDetail,
    default_auth_status,
    status_entry,
)
from app_server.mcp.stdio.child_registry import ChildRegistry
from app_server.mcp.stdio.process import DEFAULT_MAX_MESSAGE_BYTES
from protocol.mcp import McpServerStatus
from protocol.notifications import McpServerStatusUpdatedNotification

logger = logging.getLogger(__name__)

_SERVER_NAME = re.compile(SERVER_NAME_PATTERN)


@dataclass(frozen=True)
class Plan:
    """The next generation of one cell: every effective server, carried or to be started."""

    cell: RuntimeCell | None
    servers: Mapping[str, ServerConfig]
    plugin_ids: Mapping[str, str]
    context: RuntimeContext
    thread_id: str | None
    carried: Mapping[str, McpConnection]
    """Connections of the current generation that go on unchanged."""

    @property
    def to_start(self) -> list[str]:
        return [name for name, config in self.servers.items() if config.enabled and name not in self.carried]


class McpManager:
    """Owns the task group of every MCP connection; run it with `await tg.start(manager.run)`."""

    def __init__(
        self,
        events: EventBus,
        *,
        home: Path | None = None,
        auth_for: AuthProvider | None = None,
        auth_status_for: AuthStatusProvider = default_auth_status,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self._events = events
        self.registry = ChildRegistry(home) if home is not None else None
        self._auth_for = auth_for
        self._auth_status_for = auth_status_for
        self._max_message_bytes = max_message_bytes
        self._tg: anyio.abc.TaskGroup | None = None
        self._cells: set[RuntimeCell] = set()
        self._connections: set[McpConnection] = set()
        self._generation = 0
        self.live_generations = 0
        """Generations published and not yet closed (for tests and diagnostics)."""

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Kill children left by a crashed predecessor, then own the connections until cancelled."""
        if self.registry is not None:
            killed = self.registry.reap_orphans()
            if killed:
                logger.warning("killed %d MCP server processes left by a previous daemon", killed)
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                task_status.started()
                await anyio.sleep_forever()
        finally:
            # Cancelling the task group stopped every supervisor, each reaping its child (shielded).
            self._tg = None
            for cell in list(self._cells):
                self.close_cell(cell)

    # ---- generations -------------------------------------------------------------------------

    def plan(
        self,
        cell: RuntimeCell | None,
        servers: Mapping[str, ServerConfig],
        context: RuntimeContext,
        *,
        plugin_ids: Mapping[str, str] | None = None,
        thread_id: str | None = None,
    ) -> Plan:
        """Decide the next generation of `cell` (None: a new cell) without touching anything.

        Raises InvalidParams when a server name is invalid or a stdio server's working directory is missing.
        """
        for name, config in servers.items():
            if not _SERVER_NAME.match(name):
                raise InvalidParams(f"invalid MCP server name '{name}'")
            if isinstance(config, StdioServerConfig) and config.enabled:
                cwd = config.cwd or context.cwd
                if cwd is not None and not Path(cwd).is_dir():
                    raise InvalidParams(f"working directory of MCP server '{name}' does not exist")
        carried: dict[str, McpConnection] = {}
        if cell is not None and cell.current.context == context:
            for name, slot in cell.current.slots.items():
                connection = slot.connection
                if (
                    connection is not None
                    and name in servers
                    and servers[name] == slot.config
                    and connection.state in ("starting", "ready")
                ):
                    carried[name] = connection
        return Plan(
            cell=cell,
            servers=dict(servers),
            plugin_ids=dict(plugin_ids or {}),
            context=context,
            thread_id=cell.thread_id if cell is not None else thread_id,
            carried=carried,
        )

    def publish(self, plan: Plan) -> RuntimeCell:
        """Publish the planned generation in one step and start its new connections in the background.

        Returns the cell (a new one when the plan was made for `cell=None`).
        """
        if self._tg is None:
            raise RequestFailed("the MCP manager is not running")
        slots: dict[str, ServerSlot] = {}
        started: list[McpConnection] = []
        for name, config in plan.servers.items():
            connection = plan.carried.get(name)
            if connection is None and config.enabled:
                connection = self._new_connection(name, config, plan.context, plan.thread_id)
                started.append(connection)
            slots[name] = ServerSlot(name, config, plan.plugin_ids.get(name), connection)
        runtime = self._new_runtime(slots, plan.context, plan.thread_id)
        cell = plan.cell
        if cell is None or cell.is_closed:
            cell = RuntimeCell(runtime)
            self._cells.add(cell)
        else:
            cell.publish(runtime)
        for connection in started:
            self._start(connection, plan.thread_id)
        return cell

    def open_cell(
        self,
        servers: Mapping[str, ServerConfig],
        context: RuntimeContext,
        *,
        plugin_ids: Mapping[str, str] | None = None,
        thread_id: str | None = None,
    ) -> RuntimeCell:
        """A new cell (the app level, or a thread) whose first generation starts every enabled server."""
        return self.publish(self.plan(None, servers, context, plugin_ids=plugin_ids, thread_id=thread_id))

    def refresh(self, plans: Sequence[Plan]) -> None:
        """Publish plans made beforehand: make all first, so a failing `plan` leaves every cell as it was."""
        for plan in plans:
            self.publish(plan)

    def close_cell(self, cell: RuntimeCell) -> None:
        """Retire a cell's generation for good; its servers stop when its last lease goes."""
        self._cells.discard(cell)
        cell.close()

    def _new_runtime(
        self, slots: Mapping[str, ServerSlot], context: RuntimeContext, thread_id: str | None
    ) -> McpRuntime:
        self._generation += 1
        self.live_generations += 1
        return McpRuntime(
            self._generation, slots, context, thread_id=thread_id, on_closed=self._runtime_closed
        )

    def _runtime_closed(self, _runtime: McpRuntime) -> None:
        self.live_generations -= 1

    def _new_connection(
        self, name: str, config: ServerConfig, context: RuntimeContext, thread_id: str | None
    ) -> McpConnection:
        def on_state(connection: McpConnection) -> None:
            self._announce(connection, thread_id)

        return McpConnection(
            name,
            config,
            context,
            registry=self.registry,
            auth_for=self._auth_for,
            on_state=on_state,
            on_catalog_changed=self._catalog_changed,
            max_message_bytes=self._max_message_bytes,
        )

    def _start(self, connection: McpConnection, thread_id: str | None) -> None:
        assert self._tg is not None
        self._connections.add(connection)
        self._announce(connection, thread_id)

        async def supervise() -> None:
            try:
                await connection.run()
            finally:
                self._connections.discard(connection)

        self._tg.start_soon(supervise)

    def _announce(self, connection: McpConnection, thread_id: str | None) -> None:
        self._events.publish(
            McpServerStatusUpdatedNotification(
                name=connection.name, status=connection.state, error=connection.error, thread_id=thread_id
            )
        )

    def _catalog_changed(self, connection: McpConnection) -> None:
        """A server's list changed: republish each cell using it, so the next step sees the new catalog."""
        for cell in list(self._cells):
            current = cell.current
            if any(slot.connection is connection for slot in current.slots.values()):
                cell.publish(self._new_runtime(current.slots, current.context, current.thread_id))

    # ---- requests ----------------------------------------------------------------------------

    async def status(
        self,
        cell: RuntimeCell,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        detail: StatusDetail = "full",
        server_name: str | None = None,
    ) -> tuple[list[McpServerStatus], str | None]:
        """One page of status entries (sorted by name, byte order) and the next cursor.

        Reads the live generation; waits only for servers of the page still starting. Raises
        InvalidParams for a bad cursor (checked before any work) or an unknown `server_name`.
        """
        with cell.lease() as runtime:
            slots = list(runtime.slots.values())
            if server_name is not None:
                slots = [slot for slot in slots if slot.name == server_name]
                if not slots:
                    raise InvalidParams(f"unknown MCP server '{server_name}'")
            start, end, next_cursor = page_bounds(cursor, limit, len(slots), what="MCP servers")
            page = slots[start:end]
            for slot in page:
                if slot.connection is not None:
                    await slot.connection.wait_settled()
            entries = [
                status_entry(slot, detail, self._auth_status_for(slot.name, slot.config)) for slot in page
            ]
        return entries, next_cursor
