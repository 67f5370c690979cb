"""Daemon figures over real stdio: status listing, reload, tool-call overhead against a bare SDK client, RSS.

Each figure goes through the `app-server` process exactly as a front-end would drive it; the
in-process counterparts (and lease capture, which has no wire form) are in bench_mcp.py.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

from bench.bench_mcp import median_ms, mib
from bench.lean_client import LeanClient
from tests.app_server.handlers.servers import startup_until
from tests.support import config
from tests.support.config import FIXTURE_SERVER, cheap_server, fixture_server
from tests.support.daemon import Daemon
from tests.support.processes import rss, server_pids

Row = tuple[str, str, str]
COUNTS = (1, 5, 20)
CHANGED = "s07"


def write_config(home: Path, count: int, *, changed: bool = False, sdk: bool = False) -> list[str]:
    """`count` cheap servers s00..; `changed` alters s07's command line; `sdk` adds the SDK server."""
    names = [f"s{index:02}" for index in range(count)]
    servers = {
        name: cheap_server(name, "--tag=changed" if changed and name == CHANGED else "--tag=")
        for name in names
    }
    if sdk:
        servers["sdk"] = fixture_server("sdk")
    config.write_config(home, servers, features={"apps": False})
    return names


async def reload_until_ready(daemon: Daemon, names: list[str]) -> None:
    await daemon.call("config/mcpServer/reload")
    await startup_until(daemon, dict.fromkeys(names, "ready"))


async def status_rows(daemon: Daemon, home: Path) -> list[Row]:
    rows = []
    running: list[str] = []
    for count in COUNTS:
        names = write_config(home, count)
        await reload_until_ready(daemon, [name for name in names if name not in running])
        running = names
        before = server_pids(daemon.process.pid)
        took = await median_ms(lambda: daemon.call("mcpServerStatus/list", {}), 50)
        spawned = sum(
            len(set(pids) - set(before.get(label, [])))
            for label, pids in server_pids(daemon.process.pid).items()
        )
        target = "< 10 ms for 20, no spawn" if count == 20 else "no spawn"
        rows.append((f"daemon status list, {count} connected", f"{took:.2f} ms, {spawned} spawned", target))
    return rows


async def reload_rows(daemon: Daemon, home: Path) -> list[Row]:
    write_config(home, COUNTS[-1], changed=True)
    started = anyio.current_time()
    await daemon.call("config/mcpServer/reload")
    replied = anyio.current_time()
    await startup_until(daemon, {CHANGED: "ready"})
    ready = anyio.current_time()
    return [
        ("daemon reload, 1 of 20 changed: reply", f"{(replied - started) * 1000:.1f} ms", "immediate"),
        ("daemon reload, 1 of 20 changed: ready", f"{(ready - started) * 1000:.0f} ms", "spawn + handshake"),
    ]


async def call_rows(daemon: Daemon, home: Path) -> list[Row]:
    """The same `echo` call three ways, interleaved so load from other processes weighs on all alike:
    through a daemon driven by a minimal client (the figure against the target), through the
    test harness's client (an anyio peer with notification bookkeeping), and straight to the
    server with a bare SDK client."""
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    write_config(home, COUNTS[-1], changed=True, sdk=True)
    await reload_until_ready(daemon, ["sdk"])
    parameters = StdioServerParameters(command=sys.executable, args=[str(FIXTURE_SERVER), "--label", "bare"])
    call = {"server": "sdk", "tool": "echo", "arguments": {"text": "x"}}
    lean_samples, harness_samples, bare_samples = [], [], []
    with tempfile.TemporaryDirectory() as lean_home:
        config.write_config(Path(lean_home), {"sdk": fixture_server("sdk")}, features={"apps": False})
        with LeanClient(Path(lean_home)) as lean:
            lean.wait_connected("sdk")
            async with Client(parameters, mode="legacy", cache=None) as client:
                await client.list_tools()
                for _ in range(300):
                    started = time.perf_counter()
                    lean.call("mcpServer/tool/call", call)
                    lean_samples.append((time.perf_counter() - started) * 1000)
                    harness_samples.append(
                        await median_ms(lambda: daemon.call("mcpServer/tool/call", call), 1)
                    )
                    bare_samples.append(await median_ms(lambda: client.call_tool("echo", {"text": "x"}), 1))
    lean_ms, harness_ms, bare = (statistics.median(s) for s in (lean_samples, harness_samples, bare_samples))
    return [
        (
            "tool call round trip through the daemon (minimal client)",
            f"{lean_ms:.2f} ms ({lean_ms / bare:.2f}x)",
            "within 1.2x of bare",
        ),
        (
            "tool call round trip through the daemon (test harness client)",
            f"{harness_ms:.2f} ms ({harness_ms / bare:.2f}x)",
            "-",
        ),
        ("bare SDK client tool call round trip", f"{bare:.2f} ms", "-"),
    ]


async def measure() -> list[Row]:
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        write_config(home, 0)
        async with Daemon.start(home, max_wait=60) as daemon:
            await daemon.initialize()
            await daemon.call("mcpServerStatus/list", {})  # builds the core: the idle daemon
            idle = rss(daemon.process.pid)
            rows = await status_rows(daemon, home)
            loaded = rss(daemon.process.pid)
            rows += [
                ("daemon RSS, idle (core built)", mib(idle), "-"),
                ("daemon RSS, 20 servers connected", f"{mib(loaded)} (+{mib(loaded - idle)})", "-"),
            ]
            rows += await reload_rows(daemon, home)
            rows += await call_rows(daemon, home)
    return rows


def run() -> list[Row]:
    return anyio.run(measure)


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
