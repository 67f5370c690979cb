"""Shared fixtures of the MCP service tests: fixture server configs, a running manager, an HTTP server."""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn

from app_server.config.servers import StdioServerConfig
from app_server.events import EventBus
from app_server.mcp.manager import McpManager
from app_server.mcp.runtime import RuntimeCell
from app_server.transport.sockets import tcp_listener
from tests.fixtures.mcp_servers.eras import http_app
from tests.fixtures.mcp_servers.fixture_server import build_server
from tests.support.config import CHEAP_SERVER, ELICIT_SERVER, FIXTURE_SERVER, MODERN_SERVER

STARTUP_STATUS = "mcpServer/startupStatus/updated"


def stdio_config(label: str, *extra_args: str, **fields: Any) -> StdioServerConfig:
    """A config that runs the fixture server (real mcp SDK server) over stdio."""
    return StdioServerConfig(
        command=sys.executable, args=(str(FIXTURE_SERVER), "--label", label, *extra_args), **fields
    )


def elicit_config(**fields: Any) -> StdioServerConfig:
    """A config that runs the elicitation fixture server (asks questions, counts cancellations)."""
    return StdioServerConfig(command=sys.executable, args=(str(ELICIT_SERVER),), **fields)


def modern_config(*args: str, **fields: Any) -> StdioServerConfig:
    """A config that runs the fixture server of the stateless 2026-07-28 era (`--era` in `args`)."""
    return StdioServerConfig(command=sys.executable, args=(str(MODERN_SERVER), *args), **fields)


def cheap_config(**fields: Any) -> StdioServerConfig:
    return StdioServerConfig(command=sys.executable, args=(str(CHEAP_SERVER),), **fields)


@dataclass
class StartupEvents:
    """Every `mcpServer/startupStatus/updated` published, in order."""

    received: list[dict[str, Any]] = field(default_factory=list)

    def statuses(self, name: str) -> list[str]:
        return [event["status"] for event in self.received if event["name"] == name]


@dataclass
class Running:
    manager: McpManager
    events: StartupEvents


@pytest.fixture
async def running(home: Path) -> AsyncIterator[Running]:
    """A started McpManager (pid record under the test's home); stopped, children reaped, at the end."""
    bus = EventBus()
    events = StartupEvents()
    bus.subscribe(lambda method, params: events.received.append(params) if method == STARTUP_STATUS else None)
    manager = McpManager(bus, home=home, max_message_bytes=1024 * 1024)
    async with anyio.create_task_group() as tg:
        await tg.start(manager.run)
        yield Running(manager, events)
        tg.cancel_scope.cancel()


@pytest.fixture
def http_fixture_url() -> Iterator[str]:
    """The fixture server over streamable HTTP on 127.0.0.1 (uvicorn in a thread), label `web`."""
    app = http_app(build_server("web"), "legacy")
    sock = tcp_listener("127.0.0.1", 0)
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(10)
    sock.close()


async def wire_status(
    manager: McpManager, cell: RuntimeCell, **options: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """`manager.status` with the entries as they go on the wire."""
    entries, next_cursor = await manager.status(cell, **options)
    return [entry.to_wire() for entry in entries], next_cursor
