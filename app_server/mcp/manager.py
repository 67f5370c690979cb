"""The MCP manager: plans and publishes generations, supervises connections, serves status.

Planning is pure (what to carry, what to start) so a refresh can plan every cell before publishing
any; publishing swaps the generation in one step and starts the new connections in the background.
Connections come from the daemon-wide pool (`pool.py`): a generation of any cell that needs a server
already running with the same identity holds that connection, so a reload starts a changed server
once for every cell that needs it and carries an unchanged one everywhere; a connection stops when
the last generation holding it closes.

Startup states are announced per scope, with the scope's thread id: when a generation of an
announced cell is published, the state of each of its servers (so a carried server is announced
`ready` after every reload), then every change of a connection to every scope told about it. A new
thread's cell is announced only once the thread has been (`announce`), so its notifications follow
`thread/started`, and a thread discarded at start is never announced.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.abc

from app_server.config.servers import SERVER_NAME_PATTERN, StdioServerConfig
from app_server.errors import InvalidParams, RequestFailed, quoted
from app_server.events import EventBus
from app_server.mcp.client import AuthProvider, McpConnection, RuntimeContext, ServerConfig
from app_server.mcp.paging import page_bounds
from app_server.mcp.pool import ConnectionKey, ConnectionPool, CredentialsProvider, connection_key
from app_server.mcp.runtime import McpRuntime, RuntimeCell, ServerSlot
from app_server.mcp.status import (
    AuthStatusProvider,
    StatusDetail,
    default_auth_status,
    status_entry,
)
from app_server.mcp.stdio.child_registry import ChildRegistry
from app_server.mcp.stdio.process import DEFAULT_MAX_MESSAGE_BYTES
from protocol.mcp import McpServerProcess, McpServerStatus
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
    """Servers some cell already runs with the same identity: their connections are shared."""

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
        credentials_for: CredentialsProvider | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self._events = events
        self.registry = ChildRegistry(home) if home is not None else None
        self._auth_for = auth_for
        self._auth_status_for = auth_status_for
        self._credentials_for = credentials_for
        self._max_message_bytes = max_message_bytes
        self._tg: anyio.abc.TaskGroup | None = None
        self._cells: set[RuntimeCell] = set()
        self._pool = ConnectionPool()
        self._connection_ids = itertools.count(1)
        self._audience: dict[McpConnection, set[str | None]] = {}
        """The scopes (thread ids, None for the app level) told about each connection: they hear its
        every later change, its end included, while their current generation holds it (and the end of
        one their letting go stopped)."""
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
                raise InvalidParams(f"invalid MCP server name '{quoted(name)}'")
            if isinstance(config, StdioServerConfig) and config.enabled:
                cwd = config.cwd or context.cwd
                if cwd is not None and not Path(cwd).is_dir():
                    raise InvalidParams(f"working directory of MCP server '{name}' does not exist")
        scope = cell.thread_id if cell is not None else thread_id
        carried = {
            name: connection
            for name, config in servers.items()
            if config.enabled
            and (connection := self._pool.find(self._key(name, config, context, scope))) is not None
        }
        return Plan(
            cell=cell,
            servers=dict(servers),
            plugin_ids=dict(plugin_ids or {}),
            context=context,
            thread_id=scope,
            carried=carried,
        )

    def _key(
        self, name: str, config: ServerConfig, context: RuntimeContext, thread_id: str | None
    ) -> ConnectionKey:
        credentials = self._credentials_for(name, config) if self._credentials_for is not None else ""
        return connection_key(name, config, context, thread_id, credentials)

    def publish(self, plan: Plan, *, announced: bool = True) -> RuntimeCell:
        """Publish the planned generation in one step, start its new connections in the background
        and announce its servers.

        Each server takes the pool's connection for its identity as it is now (one started by an
        earlier plan of the same refresh included), else a new one. Returns the cell (a new one,
        announced only when `announced`, when the plan was made for `cell=None`).
        """
        cell = self._publish(plan, announced=announced)
        self._announce_cell(cell)
        return cell

    def _publish(self, plan: Plan, *, announced: bool) -> RuntimeCell:
        if self._tg is None:
            raise RequestFailed("the MCP manager is not running")
        slots: dict[str, ServerSlot] = {}
        started: list[tuple[ConnectionKey, McpConnection]] = []
        for name, config in plan.servers.items():
            connection = None
            if config.enabled:
                key = self._key(name, config, plan.context, plan.thread_id)
                connection = self._pool.find(key)
                if connection is None:
                    connection = self._new_connection(name, config, plan.context)
                    self._pool.add(key, connection)
                    started.append((key, connection))
            slots[name] = ServerSlot(name, config, plan.plugin_ids.get(name), connection)
        runtime = self._new_runtime(slots, plan.context, plan.thread_id)
        cell = plan.cell
        if cell is None or cell.is_closed:
            cell = RuntimeCell(runtime, announced=announced)
            self._cells.add(cell)
        else:
            previous = cell.current
            cell.publish(runtime)
            self._stop_telling(cell.thread_id, previous, keeping=runtime)
        for key, connection in started:
            self._start(key, connection)
        return cell

    def announce(self, cell: RuntimeCell) -> None:
        """Start announcing `cell`'s servers (a new thread's, once the thread is announced), each
        with its state as it is now."""
        if not cell.announced:
            cell.announced = True
            self._announce_cell(cell)

    def open_cell(
        self,
        servers: Mapping[str, ServerConfig],
        context: RuntimeContext,
        *,
        plugin_ids: Mapping[str, str] | None = None,
        thread_id: str | None = None,
        announced: bool = True,
    ) -> RuntimeCell:
        """A new cell (the app level, or a thread) whose first generation holds every enabled server."""
        plan = self.plan(None, servers, context, plugin_ids=plugin_ids, thread_id=thread_id)
        return self.publish(plan, announced=announced)

    def refresh(self, plans: Sequence[Plan]) -> None:
        """Publish plans made beforehand: make all first, so a failing `plan` leaves every cell as it was.

        The cells are announced by a task queued after the new connections' own, so a changed
        server's process is spawned first and boots while every scope hears its carried servers.
        """
        assert self._tg is not None
        cells = [self._publish(plan, announced=True) for plan in plans]
        self._tg.start_soon(self._announce_cells, cells)

    async def _announce_cells(self, cells: Sequence[RuntimeCell]) -> None:
        for cell in cells:
            if not cell.is_closed:
                self._announce_cell(cell)

    def close_cell(self, cell: RuntimeCell) -> None:
        """Retire a cell's generation for good; its servers stop when its last lease goes."""
        self._cells.discard(cell)
        cell.close()
        self._stop_telling(cell.thread_id, cell.current)

    def _stop_telling(
        self, scope: str | None, previous: McpRuntime, *, keeping: McpRuntime | None = None
    ) -> None:
        """`scope` stops hearing the connections of its `previous` generation that `keeping` (its
        next one, if any) does not hold and that go on for others (a generation still leased, other
        scopes); it still hears the end of those its letting go stopped."""
        kept = set(keeping.connections()) if keeping is not None else set()
        for connection in previous.connections():
            if connection in kept or connection.stopping:
                continue
            if (audience := self._audience.get(connection)) is not None:
                audience.discard(scope)

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

    def _new_connection(self, name: str, config: ServerConfig, context: RuntimeContext) -> McpConnection:
        return McpConnection(
            name,
            config,
            context,
            registry=self.registry,
            auth_for=self._auth_for,
            on_state=self._state_changed,
            on_catalog_changed=self._catalog_changed,
            max_message_bytes=self._max_message_bytes,
            connection_id=f"{name}-{next(self._connection_ids)}",
        )

    def _start(self, key: ConnectionKey, connection: McpConnection) -> None:
        assert self._tg is not None

        async def supervise() -> None:
            try:
                await connection.run()
            finally:
                self._pool.discard(key, connection)
                self._audience.pop(connection, None)

        self._tg.start_soon(supervise)

    def holders_of(self, connection: McpConnection) -> list[RuntimeCell]:
        """The open cells whose current generation holds `connection`."""
        return [cell for cell in self._cells if connection in cell.current.connections()]

    def process_of(self, connection: McpConnection) -> McpServerProcess:
        """Which scopes share `connection` now (the status and views extension)."""
        cells = self.holders_of(connection)
        return McpServerProcess(
            server=connection.name,
            connection_id=connection.connection_id,
            pid=connection.pid,
            isolation=connection.config.isolation,
            app_level=any(cell.thread_id is None for cell in cells),
            thread_ids=sorted(cell.thread_id for cell in cells if cell.thread_id is not None),
        )

    def processes(self) -> list[McpServerProcess]:
        """Every live connection of the daemon, by server name then connection id."""
        found = [self.process_of(connection) for connection in self._pool]
        return sorted(found, key=lambda process: (process.server.encode(), process.connection_id))

    def _state_changed(self, connection: McpConnection) -> None:
        for scope in self._audience.get(connection, ()):
            self._announce_state(connection, scope)

    def _announce_cell(self, cell: RuntimeCell) -> None:
        if cell.announced:
            for connection in cell.current.connections():
                self._audience.setdefault(connection, set()).add(cell.thread_id)
                self._announce_state(connection, cell.thread_id)

    def _announce_state(self, connection: McpConnection, thread_id: str | None) -> None:
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
        InvalidParams for a bad cursor (checked before any work); an unknown `server_name` gets an
        empty page.
        """
        with cell.lease() as runtime:
            slots = list(runtime.slots.values())
            if server_name is not None:  # an unknown name gets an empty page, as in Codex
                slots = [slot for slot in slots if slot.name == server_name]
            start, end, next_cursor = page_bounds(cursor, limit, len(slots), what="MCP servers")
            page = slots[start:end]
            for slot in page:
                if slot.connection is not None:
                    await slot.connection.wait_settled()
            entries = [
                status_entry(
                    slot,
                    detail,
                    self._auth_status_for(slot.name, slot.config),
                    self.process_of(slot.connection) if slot.connection is not None else None,
                )
                for slot in page
            ]
        return entries, next_cursor
