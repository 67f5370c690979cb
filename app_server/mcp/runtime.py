"""Runtime generations: an immutable McpRuntime, the RuntimeCell that publishes it, and counted leases.

Whatever a step can call (tools, resources) is a method of the generation it leased, so pinning is
a property of the types: there is no other way to reach a connection.

A generation holds its connections by reference count (`McpConnection.holders`): a connection
carried into the next generation is held twice for a while, and stops only when the last
generation holding it closes. A generation closes when it is retired (replaced in its cell) and
its last lease is released. Leasing and publishing are plain assignments: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from app_server.errors import InvalidParams, RequestFailed, quoted
from app_server.mcp.catalog import ServerCatalog, ToolRef, build_tool_index
from app_server.mcp.client import McpConnection, ProgressCallback, RuntimeContext, ServerConfig
from app_server.mcp.elicitation import AskClient, relayed_to


@dataclass(frozen=True)
class ServerSlot:
    """One effective server in a generation; `connection` is None for a disabled server."""

    name: str
    config: ServerConfig
    plugin_id: str | None
    connection: McpConnection | None


class McpRuntime:
    """One generation: the exact effective servers, their connections and the runtime context."""

    def __init__(
        self,
        generation: int,
        slots: Mapping[str, ServerSlot],
        context: RuntimeContext,
        *,
        thread_id: str | None = None,
        on_closed: Callable[[McpRuntime], None] | None = None,
    ) -> None:
        self.generation = generation
        self.slots = dict(sorted(slots.items(), key=lambda item: item[0].encode()))
        self.context = context
        self.thread_id = thread_id
        self.leases = 0
        self.retired = False
        self.is_closed = False
        self._on_closed = on_closed
        self._catalogs: dict[str, ServerCatalog] = {}
        self._tool_index: dict[str, ToolRef] | None = None
        for connection in self.connections():
            connection.holders += 1

    def connections(self) -> list[McpConnection]:
        return [slot.connection for slot in self.slots.values() if slot.connection is not None]

    def connection(self, server: str) -> McpConnection:
        """The connection of `server`.

        Raises InvalidParams for an unknown server, RequestFailed for a disabled one.
        """
        slot = self.slots.get(server)
        if slot is None:
            raise InvalidParams(f"unknown MCP server '{quoted(server)}'")
        if slot.connection is None:
            raise RequestFailed(f"MCP server '{server}' is disabled")
        return slot.connection

    def tool_index(self) -> dict[str, ToolRef]:
        """Model-facing name -> tool over the ready servers.

        A server's catalog is captured by this generation the first time it is seen ready, so a
        re-listing (`list_changed`) reaches only the next generation.
        """
        for connection in self.connections():
            if connection.name not in self._catalogs and connection.state == "ready" and connection.catalog:
                self._catalogs[connection.name] = connection.catalog
                self._tool_index = None
        if self._tool_index is None:
            self._tool_index = build_tool_index(self._catalogs.items())
        return self._tool_index

    async def call_tool(
        self,
        server: str,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        turn_id: str | None = None,
        progress: ProgressCallback | None = None,
        ask: AskClient | None = None,
    ) -> dict[str, Any]:
        """Call `tool` (raw name) on this generation's `server`; the result is the server's, as sent.

        The host sets the request's `_meta` keys (see `host_meta`) over the caller's `meta`, and
        every call carries a `progressToken`. The server's elicitations during the call are asked
        through `ask` as `mcpServer/elicitation/request`, tagged with this generation's thread and
        `turn_id` (no `ask`: they are declined).

        Raises InvalidParams (unknown server, disabled tool), McpServerError (the server's own error),
        RequestFailed (not connected, timed out, connection lost).
        """
        connection = self.connection(server)
        await connection.wait_settled()
        request_meta = {**(meta or {}), **self.host_meta(turn_id)}
        elicit = None if ask is None else relayed_to(ask, server, thread_id=self.thread_id, turn_id=turn_id)
        return await connection.call_tool(
            tool, arguments, meta=request_meta, progress=progress or _no_progress, elicit=elicit
        )

    def host_meta(self, turn_id: str | None = None) -> dict[str, Any]:
        """The `_meta` keys the host sets on a tool call, which a client cannot override: `threadId`
        and Codex's `x-codex-turn-metadata` for a thread's call (`progressToken` is the transport's)."""
        if self.thread_id is None:
            return {}
        turn = {"session_id": self.thread_id, "thread_id": self.thread_id}
        if turn_id is not None:
            turn["turn_id"] = turn_id
        return {"threadId": self.thread_id, "x-codex-turn-metadata": turn}

    async def read_resource(
        self, server: str, uri: str, *, meta: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Read `uri` from this generation's `server`; returns `{contents, originCallId}`.

        Raises as `call_tool`.
        """
        connection = self.connection(server)
        await connection.wait_settled()
        result = await connection.read_resource(uri, meta=meta)
        return {"contents": result["contents"], "originCallId": None}

    async def wait_started(self, within: float = math.inf) -> None:
        """Wait until every connection finished starting (each is bounded by its startup timeout),
        or at most `within` seconds: the servers ready by then are the ones that serve."""
        with anyio.move_on_after(within):
            for connection in self.connections():
                await connection.wait_settled()

    async def check_required(self) -> None:
        """Wait for the `required` servers only; raise RequestFailed at the first that fails, naming
        every required server failed by then. The others start on: none of them holds this up."""
        required = [
            slot.connection
            for slot in self.slots.values()
            if slot.config.required and slot.connection is not None
        ]

        async def settle(connection: McpConnection, scope: anyio.CancelScope) -> None:
            await connection.wait_settled()
            if connection.state != "ready":
                scope.cancel()

        async with anyio.create_task_group() as tg:
            for connection in required:
                tg.start_soon(settle, connection, tg.cancel_scope)
        failed = [
            f"{connection.name}: {connection.error or connection.state}"
            for connection in required
            if connection.settled.is_set() and connection.state != "ready"
        ]
        if failed:
            raise RequestFailed("required MCP servers failed to initialize: " + "; ".join(failed))

    def _retire(self) -> None:
        self.retired = True
        if self.leases == 0:
            self._close()

    def _release(self) -> None:
        self.leases -= 1
        if self.retired and self.leases == 0:
            self._close()

    def _close(self) -> None:
        if self.is_closed:
            return
        self.is_closed = True
        for connection in self.connections():
            connection.holders -= 1
            if connection.holders == 0:
                connection.stop()
        if self._on_closed is not None:
            self._on_closed(self)


class Lease:
    """A counted hold on one generation: it stays open (its servers running) until released."""

    __slots__ = ("_released", "runtime")

    def __init__(self, runtime: McpRuntime) -> None:
        self.runtime = runtime
        self._released = False
        runtime.leases += 1

    def release(self) -> None:
        """Let go of the generation (idempotent); a retired generation closes with its last lease."""
        if not self._released:
            self._released = True
            self.runtime._release()

    def __enter__(self) -> McpRuntime:
        return self.runtime

    def __exit__(self, *_: object) -> None:
        self.release()


class RuntimeCell:
    """Holds the current generation of one scope (the app level or one thread)."""

    def __init__(self, current: McpRuntime, *, announced: bool = True) -> None:
        self.current = current
        self.announced = announced
        """Whether clients are told this cell's startup states (a new thread's: once it is announced)."""
        self.is_closed = False
        self.changed = anyio.Event()
        """Set (and replaced) at every publish; lets a waiter see the next generation."""

    @property
    def thread_id(self) -> str | None:
        """The thread this cell serves; None for the app level."""
        return self.current.thread_id

    def lease(self) -> Lease:
        """Capture the current generation: O(1), no I/O, independent of how many servers or tools exist."""
        return Lease(self.current)

    def publish(self, runtime: McpRuntime) -> None:
        """Swap in `runtime` in one step; the previous generation retires (and closes when unleased)."""
        previous, self.current = self.current, runtime
        previous._retire()
        changed, self.changed = self.changed, anyio.Event()
        changed.set()

    def close(self) -> None:
        """Retire the current generation for good (thread unloaded, daemon exiting)."""
        self.is_closed = True
        self.current._retire()


async def _no_progress(progress: float, total: float | None, message: str | None) -> None:
    """Progress nobody asked to see: the call still carries a token, so servers may report it."""
