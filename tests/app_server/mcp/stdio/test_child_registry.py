"""The pid record: it lists live children, and lets a new daemon kill a crashed one's children
(also through the real daemon, killed with SIGKILL, and the next one on the same home)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from app_server.mcp.stdio.child_registry import ChildRegistry
from tests.support.config import fixture_server, write_config
from tests.support.daemon import Daemon
from tests.support.processes import alive, server_pids, wait_gone, wait_until


def spawn_sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)


def write_record(home: Path, daemon_pid: int, daemon_created: float, child: subprocess.Popen[bytes]) -> Path:
    run = home / "run"
    run.mkdir(exist_ok=True)
    path = run / f"mcp-children-{daemon_pid}.json"
    created = psutil.Process(child.pid).create_time()
    path.write_text(
        json.dumps(
            {
                "daemon": {"pid": daemon_pid, "createTime": daemon_created},
                "children": [{"pid": child.pid, "createTime": created}],
            }
        )
    )
    return path


def test_children_of_a_dead_daemon_are_killed_at_start(home: Path) -> None:
    orphan = spawn_sleeper()
    try:
        record = write_record(home, 999_999_999, 1.0, orphan)
        assert ChildRegistry(home).reap_orphans() == 1
        assert orphan.wait(timeout=10) != 0
        assert not record.exists()
    finally:
        orphan.kill()
        orphan.wait()


def test_children_of_a_live_daemon_or_with_a_reused_pid_are_left_alone(home: Path) -> None:
    child = spawn_sleeper()
    try:
        parent = psutil.Process(os.getppid())
        write_record(home, parent.pid, parent.create_time(), child)
        reused = write_record(home, 999_999_998, 1.0, child)
        reused.write_text(reused.read_text().replace(str(psutil.Process(child.pid).create_time()), "12345.0"))
        assert ChildRegistry(home).reap_orphans() == 0
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


def test_the_record_lists_live_children_and_disappears_when_empty(home: Path) -> None:
    child = spawn_sleeper()
    try:
        registry = ChildRegistry(home)
        registry.add(child.pid)
        record = home / "run" / f"mcp-children-{os.getpid()}.json"
        assert [entry["pid"] for entry in json.loads(record.read_text())["children"]] == [child.pid]
        registry.remove(child.pid)
        assert not record.exists()
    finally:
        child.kill()
        child.wait()


REAP_WITHIN = 20.0
"""Generous: the new daemon reaps once its MCP layer is up (the SDK import, on a loaded box)."""


def recorded_pids(home: Path) -> set[int]:
    """Every child pid in the home's pid records (a record being replaced may be missed)."""
    pids = set()
    for path in (home / "run").glob("mcp-children-*.json"):
        with contextlib.suppress(OSError, ValueError):
            pids |= {child["pid"] for child in json.loads(path.read_text())["children"]}
    return pids


@pytest.mark.anyio
async def test_a_new_daemon_kills_the_server_a_killed_daemon_left_running(home: Path) -> None:
    """The server ignores stdin EOF and SIGTERM, so only the pid record can end it."""
    stubborn = fixture_server("stubborn", "--fault", "hang-at-start", startup_timeout_sec=600)
    write_config(home, {"stubborn": stubborn}, features={"apps": False})
    pid = None
    try:
        async with Daemon.start(home, max_wait=30) as first:
            await first.initialize()
            await wait_until(lambda: "stubborn" in server_pids(first.process.pid))
            [pid] = server_pids(first.process.pid)["stubborn"]
            await wait_until(lambda: pid in recorded_pids(home))
            first.process.kill()
            await first.wait_exit()
        assert alive(pid), "the server ended with its daemon: nothing is left to reap"
        write_config(home, {}, features={"apps": False})  # the next daemon starts no server
        async with Daemon.start(home, max_wait=30) as second:
            await second.initialize()
            await wait_gone({pid}, REAP_WITHIN)
    finally:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
