"""What every connection and handler of the daemon shares: its home, the event bus and the core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from app_server.core_host import CoreHost
from app_server.events import EventBus, Listener
from app_server.rpc import dispatcher

if TYPE_CHECKING:
    from app_server.core import AppCore
    from app_server.mcp_core import McpCore


@dataclass(frozen=True, slots=True)
class Services:
    """Handlers reach config, account, views and threads through `core()`, MCP runtimes through
    `mcp()`; connections use it as their `rpc.connection.Host`."""

    home: Path
    events: EventBus
    host: CoreHost

    async def core(self) -> AppCore:
        """The application core, built on first use (it is kept off the path to `initialize`)."""
        return await self.host.get()

    async def mcp(self) -> McpCore:
        """The core's MCP half, once it is up (it is built in the background after the core)."""
        return await (await self.host.get()).mcp()

    def built_core(self) -> AppCore:
        """The core, in an immediate handler (the connection runs those once it is built)."""
        return self.host.built_core()

    @property
    def built(self) -> bool:
        return self.host.built

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.events.subscribe(listener)

    def connection_closed(self, connection: object) -> None:
        """A connection ended: it no longer follows any thread (unloading those nobody follows).
        Before the core is built no thread is loaded, so there is nothing to do."""
        if self.host.built:
            self.host.built_core().threads.drop_subscriber(connection)

    def warm_up(self) -> None:
        self.host.warm_up()

    async def wait_built(self) -> None:
        await self.host.get()


RequestContext: TypeAlias = dispatcher.RequestContext[Services]
"""What this daemon's handlers get: the request's peer and these services."""
