"""Connection start in each MCP protocol era, over streamable HTTP on 127.0.0.1: the handshake the
daemon used to make, the automatic mode's probe and fallback for a handshake-era server, and the
stateless 2026-07-28 era (probe, change subscription); against one request's round trip."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import anyio
import uvicorn

from app_server.config.servers import HttpServerConfig
from app_server.mcp.client import McpConnection, RuntimeContext
from app_server.transport.sockets import tcp_listener
from tests.fixtures.mcp_servers.eras import Era, http_app
from tests.fixtures.mcp_servers.modern_server import build_server

ROUNDS = 40
CONNECT = "MCP connect -> catalog (HTTP)"
Row = tuple[str, str, str]


def serve(era: Era, port: int) -> None:
    """The 2026 fixture server's tools, speaking only `era`, on `port` (this process's only job)."""
    sock = tcp_listener("127.0.0.1", port)
    sock.listen(64)
    app = http_app(build_server(era), era)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.run(sockets=[sock])


@contextmanager
def served(era: Era) -> Iterator[str]:
    """`serve` in a process of its own, so the server and the client do not share an interpreter."""
    with tcp_listener("127.0.0.1", 0) as probe:
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", era, str(port)], env={**os.environ, "PYTHONPATH": str(root)}
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        child.terminate()
        child.wait(10)


class HandshakeOnly(McpConnection):
    """What the daemon did before: the SDK's legacy mode, the handshake alone."""

    connect_mode = "legacy"


async def connection_start(url: str, kind: type[McpConnection] = McpConnection) -> float:
    """A daemon connection, in ms from start to ready; stopped after."""
    connection = kind("bench", HttpServerConfig(url=url), RuntimeContext())
    async with anyio.create_task_group() as tg:
        started = time.perf_counter()
        tg.start_soon(connection.run)
        await connection.settled.wait()
        took = (time.perf_counter() - started) * 1000
        assert connection.state == "ready", connection.error
        connection.stop()
    return took


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


async def measure(legacy_url: str, modern_url: str) -> list[Row]:
    samples: dict[str, list[float]] = {"before": [], "auto-legacy": [], "auto-2026": [], "round trip": []}
    await connection_start(legacy_url)  # warm: imports, first sockets
    await connection_start(modern_url)
    # Interleaved, so load from other processes weighs on every figure alike.
    for _ in range(ROUNDS):
        samples["before"].append(await connection_start(legacy_url, HandshakeOnly))
        samples["auto-legacy"].append(await connection_start(legacy_url))
        samples["auto-2026"].append(await connection_start(modern_url))
    connection = McpConnection("bench", HttpServerConfig(url=modern_url), RuntimeContext())
    async with anyio.create_task_group() as tg:
        tg.start_soon(connection.run)
        await connection.settled.wait()
        for _ in range(ROUNDS):
            samples["round trip"].append(await timed(lambda: connection.call_tool("echo", {"text": "x"})))
        connection.stop()
    median = {name: statistics.median(values) for name, values in samples.items()}
    trip = median["round trip"]

    def over(name: str) -> str:
        extra = median[name] - median["before"]
        return f"{median[name]:.1f} ms ({extra:+.1f} ms, {extra / trip:+.1f} round trips)"

    return [
        (f"{CONNECT}, legacy server, handshake only (before)", f"{median['before']:.1f} ms", "-"),
        (f"{CONNECT}, legacy server, auto (probe + fallback)", over("auto-legacy"), "<= +1 round trip"),
        (f"{CONNECT}, 2026 server, auto (probe + subscription)", over("auto-2026"), "<= +1 round trip"),
        ("MCP request round trip (HTTP, 2026 tools/call)", f"{trip:.1f} ms", "-"),
    ]


def run() -> list[Row]:
    for noisy in ("mcp", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with served("legacy") as legacy_url, served("modern") as modern_url:
        return anyio.run(measure, legacy_url, modern_url)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(cast(Era, sys.argv[2]), int(sys.argv[3]))
        sys.exit()
    for row in run():
        print(" | ".join(row))
