"""Builds the application core on first use and runs it in the server's task group.

The core (its light half: config, account, views, threads, ~0.1 s of imports; it builds its MCP
half itself, in the background) is built after `initialize` has been answered: the client's
`initialized` notification (sent once it has the reply) starts the build, and any later request
awaits it. Starting earlier would compete with writing the reply itself. The import runs in a
worker thread so the connection keeps answering meanwhile.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import anyio.to_thread

from app_server.events import EventBus

if TYPE_CHECKING:
    from app_server.core import AppCore


def _import_core() -> ModuleType:
    return importlib.import_module("app_server.core")


class CoreHost:
    """Owns the one AppCore of this daemon; run it with `await task_group.start(host.run)`."""

    def __init__(self, home: Path, events: EventBus, cli_overrides: Sequence[str]) -> None:
        self._home = home
        self._events = events
        self._cli_overrides = tuple(cli_overrides)
        self._task_group: anyio.abc.TaskGroup | None = None
        self._core: AppCore | None = None
        self._building = anyio.Lock()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as task_group:
            self._task_group = task_group
            task_status.started()
            await anyio.sleep_forever()

    @property
    def built(self) -> bool:
        return self._core is not None

    def built_core(self) -> AppCore:
        """The core, for code that runs only once it is built (immediate handlers)."""
        assert self._core is not None, "the core is not built yet"
        return self._core

    def warm_up(self) -> None:
        """Start building the core in the background (once the client has the handshake reply)."""
        if self._core is None and self._task_group is not None:
            self._task_group.start_soon(self.get)

    async def get(self) -> AppCore:
        """The running core, built and started on first call."""
        if self._core is not None:
            return self._core
        async with self._building:
            if self._core is None:
                assert self._task_group is not None, "CoreHost.run must be started first"
                module = await anyio.to_thread.run_sync(_import_core)
                core: AppCore = module.AppCore(self._home, self._events, cli_overrides=self._cli_overrides)
                await self._task_group.start(core.run)
                self._core = core
        return self._core
