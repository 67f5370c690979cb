"""One process per server, over real stdio: processes and memory as threads grow, joins, workspaces, reload.

T threads x N SDK-built stdio servers in one workspace; K workspaces; a reload of 1 of 20 servers
with 10 threads loaded. Processes are counted below the daemon (app-level ones included, which run
in the daemon's cwd, a separate folder here); memory is the RSS of the daemon and its children.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio

from bench.bench_mcp import mib
from tests.app_server.handlers.servers import STARTUP_STATUS, startup_until
from tests.support import config
from tests.support.config import cheap_server, fixture_server
from tests.support.daemon import Daemon
from tests.support.processes import descendants, rss, server_pids

Row = tuple[str, str, str]
SERVERS = 5
THREAD_COUNTS = (1, 10, 50)
WORKSPACES = 3
WAIT = 120.0


def _sdk_servers(prefix: str = "s") -> dict[str, dict[str, object]]:
    return {f"{prefix}{index}": fixture_server(f"{prefix}{index}") for index in range(SERVERS)}


def _thread_processes(daemon: Daemon, workspace: Path) -> int:
    return sum(len(pids) for pids in server_pids(daemon.process.pid, cwd=workspace).values())


def _total_rss(daemon: Daemon) -> int:
    return rss(daemon.process.pid) + sum(rss(child.pid) for child in descendants(daemon.process.pid))


async def _start_thread(daemon: Daemon, workspace: Path, names: list[str]) -> str:
    thread_id = str((await daemon.call("thread/start", {"cwd": str(workspace)}))["thread"]["id"])
    await startup_until(daemon, dict.fromkeys(names, "ready"), thread_id=thread_id)
    return thread_id


async def thread_rows(home: Path, workspace: Path) -> list[Row]:
    servers = _sdk_servers()
    config.write_config(home, servers, features={"apps": False})
    rows: list[Row] = []
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        await startup_until(daemon, dict.fromkeys(servers, "ready"))
        app_level = _total_rss(daemon)
        started = 0
        memory: dict[int, int] = {}
        joins: list[float] = []
        for count in THREAD_COUNTS:
            while started < count:
                began = anyio.current_time()
                await _start_thread(daemon, workspace, list(servers))
                if started:
                    joins.append(anyio.current_time() - began)
                started += 1
            memory[count] = _total_rss(daemon) - app_level
            processes = _thread_processes(daemon, workspace)
            rows.append(
                (
                    f"sharing: {count} threads x {SERVERS} stdio servers, one workspace",
                    f"{processes} processes",
                    f"{SERVERS}",
                )
            )
        ratio = memory[10] / memory[1]
        rows.append(
            (
                "sharing: RSS (daemon + servers), 10 threads vs 1",
                f"{mib(memory[10])} vs {mib(memory[1])} ({ratio:.2f}x)",
                "within 1.1x",
            )
        )
        joins.sort()
        rows.append(
            (
                "sharing: thread/start -> its servers ready, servers already running (median)",
                f"{joins[len(joins) // 2] * 1000:.1f} ms",
                "< 50 ms",
            )
        )
    return rows


async def workspace_rows(home: Path, root: Path) -> list[Row]:
    servers = _sdk_servers()
    config.write_config(home, servers, features={"apps": False})
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        workspaces = []
        for index in range(WORKSPACES):
            workspace = root / f"workspace{index}"
            workspace.mkdir()
            workspaces.append(workspace)
            for _ in range(2):
                await _start_thread(daemon, workspace, list(servers))
        processes = sum(_thread_processes(daemon, workspace) for workspace in workspaces)
    return [
        (
            f"sharing: {WORKSPACES} workspaces x 2 threads x {SERVERS} servers",
            f"{processes} processes",
            f"{WORKSPACES * SERVERS}",
        )
    ]


async def _changed_ready(daemon: Daemon, server: str, thread_ids: list[str]) -> None:
    """Wait, in one pass over what arrives, until every thread heard `server` is ready."""
    waiting = set(thread_ids)
    while waiting:
        message = await daemon.next_message(
            lambda m: (
                isinstance(m, dict)
                and m.get("method") == STARTUP_STATUS
                and m["params"]["name"] == server
                and m["params"]["status"] == "ready"
                and m["params"].get("threadId") in waiting
            )
        )
        waiting.discard(message["params"]["threadId"])


async def reload_rows(home: Path, workspace: Path) -> list[Row]:
    names = [f"c{index:02}" for index in range(20)]

    def configure(tag: str) -> None:
        tables = {name: cheap_server(name, f"--tag={tag if name == 'c07' else ''}") for name in names}
        config.write_config(home, tables, features={"apps": False})

    rows: list[Row] = []
    for threads in (1, 10):
        configure("v1")
        # The daemon runs in the workspace, so its app level shares every process with the threads.
        async with Daemon.start(home, max_wait=WAIT, cwd=workspace) as daemon:
            await daemon.initialize()
            thread_ids = [await _start_thread(daemon, workspace, names) for _ in range(threads)]
            before = set(server_pids(daemon.process.pid).get("c07", []))
            configure(f"v2-{threads}")
            daemon.drop_untaken()  # the threads' startup: scanning it again would time this client
            began = anyio.current_time()
            await daemon.call("config/mcpServer/reload")
            await _changed_ready(daemon, "c07", thread_ids)
            ready = anyio.current_time() - began
            new = len(set(server_pids(daemon.process.pid).get("c07", [])) - before)
            rows.append(
                (
                    f"sharing: reload, 1 of 20 changed, {threads} thread(s): new processes, ready",
                    f"{new}, {ready * 1000:.0f} ms",
                    "1; within 1.2x of 1 thread",
                )
            )
    return rows


async def _run() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for index, make_rows in enumerate((thread_rows, reload_rows)):
            home, workspace = root / f"home{index}", root / f"workspace-{index}"
            home.mkdir()
            workspace.mkdir()
            rows.extend(await make_rows(home, workspace))
        home = root / "home-workspaces"
        home.mkdir()
        rows.extend(await workspace_rows(home, root))
    return rows


def run() -> list[Row]:
    return anyio.run(_run)
