"""The pid record: it lists live children, and lets a new daemon kill a crashed one's children."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil

from app_server.mcp.stdio.child_registry import ChildRegistry


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
