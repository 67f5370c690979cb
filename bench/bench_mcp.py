"""MCP service figures: status listing, reload, tool-call overhead, lease capture, daemon RSS."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from app_server.config.servers import StdioServerConfig
from app_server.events import EventBus
from app_server.mcp.client import RuntimeContext
from app_server.mcp.manager import McpManager
from app_server.mcp.runtime import McpRuntime, RuntimeCell, ServerSlot
from tests.support.config import CHEAP_SERVER, FIXTURE_SERVER
from tests.support.processes import child_pids, rss

CONTEXT = RuntimeContext()


def cheap(tag: str = "") -> StdioServerConfig:
    """A stdlib-only MCP server: fast to spawn, so figures measure the daemon, not the server."""
    return StdioServerConfig(command=sys.executable, args=(str(CHEAP_SERVER),), env={"TAG": tag})


def sdk_server() -> StdioServerConfig:
    return StdioServerConfig(command=sys.executable, args=(str(FIXTURE_SERVER), "--label", "bench"))


async def median_ms(action: Callable[[], Awaitable[Any]], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def mib(value: float) -> str:
    return f"{value / (1024 * 1024):.1f} MiB"


async def status_rows(manager: McpManager) -> list[tuple[str, str, str]]:
    rows = []
    for count in (1, 5, 20):
        cell = manager.open_cell({f"s{i:02}": cheap() for i in range(count)}, CONTEXT)
        await cell.current.wait_started()
        before = child_pids()
        took = await median_ms(lambda cell=cell: manager.status(cell), 50)  # type: ignore[misc]
        spawned = len(child_pids() - before)
        target = "< 10 ms, no spawn" if count == 20 else "no spawn"
        rows.append((f"status list, {count} connected", f"{took:.2f} ms, {spawned} spawned", target))
        manager.close_cell(cell)
    return rows


async def reload_rows(manager: McpManager) -> list[tuple[str, str, str]]:
    servers = {f"s{i:02}": cheap() for i in range(20)}
    cell = manager.open_cell(servers, CONTEXT)
    await cell.current.wait_started()
    started = time.perf_counter()
    manager.refresh([manager.plan(cell, {**servers, "s07": cheap("changed")}, CONTEXT)])
    replied = time.perf_counter()
    await cell.current.connection("s07").settled.wait()
    ready = time.perf_counter()
    manager.close_cell(cell)
    return [
        ("reload, 1 of 20 changed: reply", f"{(replied - started) * 1000:.2f} ms", "immediate"),
        ("reload, 1 of 20 changed: server ready", f"{(ready - started) * 1000:.0f} ms", "spawn + handshake"),
    ]


async def call_rows(manager: McpManager) -> list[tuple[str, str, str]]:
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    config = sdk_server()
    cell = manager.open_cell({"sdk": config}, CONTEXT)
    parameters = StdioServerParameters(command=config.command, args=list(config.args))
    daemon_samples, bare_samples = [], []
    async with Client(parameters, mode="legacy", cache=None) as client:
        await client.list_tools()
        with cell.lease() as runtime:
            await runtime.wait_started()
            # Interleaved, so load from other processes weighs on both sides alike.
            for _ in range(300):
                daemon_samples.append(
                    await median_ms(lambda: runtime.call_tool("sdk", "echo", {"text": "x"}), 1)
                )
                bare_samples.append(await median_ms(lambda: client.call_tool("echo", {"text": "x"}), 1))
    manager.close_cell(cell)
    through_daemon, bare = statistics.median(daemon_samples), statistics.median(bare_samples)
    return [
        (
            "tool call round trip, daemon",
            f"{through_daemon:.2f} ms ({through_daemon / bare:.2f}x)",
            "within 1.2x of bare",
        ),
        ("tool call round trip, bare SDK client", f"{bare:.2f} ms", "-"),
    ]


def lease_rows() -> list[tuple[str, str, str]]:
    rows = []
    for count in (1, 1000):
        slots = {
            f"s{i:04}": ServerSlot(f"s{i:04}", cheap().model_copy(update={"enabled": False}), None, None)
            for i in range(count)
        }
        cell = RuntimeCell(McpRuntime(1, slots, CONTEXT))
        rounds = 100_000
        started = time.perf_counter()
        for _ in range(rounds):
            cell.lease().release()
        per = (time.perf_counter() - started) / rounds * 1e9
        rows.append(
            (f"lease capture + release, {count} servers", f"{per:.0f} ns", "same cost for 1 and 1000")
        )
    return rows


async def rss_rows(manager: McpManager) -> list[tuple[str, str, str]]:
    idle = rss()
    cell = manager.open_cell({f"s{i:02}": cheap() for i in range(20)}, CONTEXT)
    await cell.current.wait_started()
    loaded = rss()
    manager.close_cell(cell)
    return [
        ("daemon RSS, idle (manager running)", mib(idle), "-"),
        ("daemon RSS, 20 servers connected", f"{mib(loaded)} (+{mib(loaded - idle)})", "-"),
    ]


async def measure() -> list[tuple[str, str, str]]:
    manager = McpManager(EventBus())
    rows: list[tuple[str, str, str]] = []
    async with anyio.create_task_group() as tg:
        await tg.start(manager.run)
        rows += await rss_rows(manager)
        rows += await status_rows(manager)
        rows += await reload_rows(manager)
        rows += await call_rows(manager)
        tg.cancel_scope.cancel()
    return rows + lease_rows()


def run() -> list[tuple[str, str, str]]:
    return anyio.run(measure)


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
