"""Lifecycle figures over real stdio: a startup timeout's `failed` report, and the daemon's exit.

A hung server (`startup_timeout_sec = 2`) is timed from the client's `initialized` (which starts
building the core, mcp SDK import included) and from its own `starting` to `failed`. The exit is
timed from closing the daemon's stdin, or sending it SIGTERM, to its exit, with 20 SDK fixture
servers ready, and counts the servers still running afterwards (each must have been reaped).
"""

from __future__ import annotations

import signal
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import anyio

from tests.app_server.handlers.servers import STARTUP_STATUS, startup_until
from tests.support.config import fixture_server, write_config
from tests.support.daemon import Daemon
from tests.support.processes import alive, server_pids

Row = tuple[str, str, str]
T = TypeVar("T")
RUNS = 3
SERVERS = 20
HUNG_TIMEOUT_SEC = 2
CLIENT_INFO = {"name": "bench", "version": "1"}


async def hung_startup(home: Path) -> tuple[float, float]:
    """Seconds from `initialized`, and from `starting`, to the hung server's `failed`."""
    hung = fixture_server("hung", "--fault", "hang-at-start", startup_timeout_sec=HUNG_TIMEOUT_SEC)
    write_config(home, {"hung": hung}, features={"apps": False})
    async with Daemon.start(home, max_wait=60) as daemon:
        await daemon.call("initialize", {"clientInfo": CLIENT_INFO})
        await daemon.notify("initialized")
        initialized = starting = time.perf_counter()
        while (await daemon.next_notification(STARTUP_STATUS))["params"]["status"] != "failed":
            starting = time.perf_counter()
        failed = time.perf_counter()
    return failed - initialized, failed - starting


async def exit_with_servers(home: Path, how: str) -> tuple[float, int]:
    """Seconds from closing stdin (or SIGTERM) to the daemon's exit, and how many servers outlived it."""
    names = [f"s{index:02}" for index in range(SERVERS)]
    write_config(home, {name: fixture_server(name) for name in names}, features={"apps": False})
    async with Daemon.start(home, max_wait=120) as daemon:
        await daemon.initialize()
        await startup_until(daemon, dict.fromkeys(names, "ready"))
        pids = [pid for pids in server_pids(daemon.process.pid).values() for pid in pids]
        started = time.perf_counter()
        if how == "stdin":
            await daemon.close_stdin()
        else:
            daemon.process.send_signal(signal.SIGTERM)
        await daemon.wait_exit()
        took = time.perf_counter() - started
    return took, sum(alive(pid) for pid in pids)


def spread(samples: list[float], unit: float, suffix: str, digits: int) -> str:
    """`median (min-max)` of the samples, scaled by `unit`."""
    scaled = [sample * unit for sample in samples]
    return (
        f"{statistics.median(scaled):.{digits}f} {suffix} ({min(scaled):.{digits}f}-{max(scaled):.{digits}f})"
    )


async def in_fresh_home(measure: Callable[[Path], Awaitable[T]]) -> T:
    with tempfile.TemporaryDirectory() as directory:
        return await measure(Path(directory))


async def measure() -> list[Row]:
    rows: list[Row] = []
    startups = [await in_fresh_home(hung_startup) for _ in range(RUNS)]
    label = f"hung stdio server, startup_timeout_sec = {HUNG_TIMEOUT_SEC}, {RUNS} runs"
    rows.append((f"{label}: initialized -> failed", spread([s[0] for s in startups], 1, "s", 2), "2.0-2.2 s"))
    rows.append((f"{label}: starting -> failed", spread([s[1] for s in startups], 1, "s", 3), "2.0-2.2 s"))
    for how, what in (("stdin", "stdin closed"), ("sigterm", "SIGTERM")):
        exits = [await in_fresh_home(lambda home, how=how: exit_with_servers(home, how)) for _ in range(RUNS)]
        left = sum(outlived for _, outlived in exits)
        rows.append(
            (
                f"{what} -> daemon exit, {SERVERS} SDK servers, {RUNS} runs",
                f"{spread([took for took, _ in exits], 1000, 'ms', 0)}, {left} left running",
                "< 0.2 s, 0 left",
            )
        )
    return rows


def run() -> list[Row]:
    return anyio.run(measure)


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
