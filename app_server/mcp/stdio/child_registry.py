"""The pid record of a daemon's stdio MCP server children, so the next daemon can kill what a crash left.

Every child runs in its own process group and is recorded in `<home>/run/mcp-children-<pid>.json`
while it lives, so a daemon that starts after a crash can kill the children its predecessor
left behind (`reap_orphans`). Process identity is (pid, create_time): a reused pid is never killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

import psutil


class ChildRegistry:
    """The pid record of this daemon's live children (one JSON file per daemon pid)."""

    def __init__(self, home: Path) -> None:
        self._dir = home / "run"
        self._path = self._dir / f"mcp-children-{os.getpid()}.json"
        self._children: dict[int, float] = {}
        self._daemon_created = psutil.Process().create_time()

    def add(self, pid: int) -> None:
        with contextlib.suppress(psutil.Error):
            self._children[pid] = psutil.Process(pid).create_time()
            self._write()

    def remove(self, pid: int) -> None:
        if self._children.pop(pid, None) is not None:
            self._write()

    def pids(self) -> list[int]:
        return list(self._children)

    def _write(self) -> None:
        if not self._children:
            self._path.unlink(missing_ok=True)
            return
        self._dir.mkdir(parents=True, exist_ok=True)
        record = {
            "daemon": {"pid": os.getpid(), "createTime": self._daemon_created},
            "children": [{"pid": pid, "createTime": created} for pid, created in self._children.items()],
        }
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record))
        temporary.replace(self._path)

    def reap_orphans(self) -> int:
        """Kill the recorded children of daemons that are no longer running; returns how many were killed."""
        killed = 0
        for record_path in self._dir.glob("mcp-children-*.json"):
            try:
                record = json.loads(record_path.read_text())
                daemon = record["daemon"]
                children = record["children"]
            except (OSError, ValueError, KeyError, TypeError):
                record_path.unlink(missing_ok=True)
                continue
            if record_path == self._path or _is_alive(daemon["pid"], daemon["createTime"]):
                continue
            for child in children:
                if _is_alive(child["pid"], child["createTime"]):
                    kill_group(child["pid"], signal.SIGKILL)
                    killed += 1
            record_path.unlink(missing_ok=True)
        return killed


def _is_alive(pid: int, create_time: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and abs(process.create_time() - create_time) < 0.01
    except psutil.Error:
        return False


def kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
