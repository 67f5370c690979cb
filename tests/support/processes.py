"""Process-table facts for tests: which server processes run, and waiting until some are gone.

A process exit has no event a test could await, so the waits here poll, each bounded by
`anyio.fail_after`. A zombie (exited, not yet reaped by its parent) counts as gone, except in
`child_pids`, where it shows that a process was spawned. Fixture servers are told apart by their
`--label` argument.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import anyio
import psutil

WAIT = 30.0
"""Seconds a wait may take by default: generous, since a loaded 2-core box spawns servers slowly."""


def alive(pid: int) -> bool:
    """Whether the process still runs (a zombie awaiting its parent's wait counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def wait_until(condition: Callable[[], bool], seconds: float = WAIT) -> None:
    """Poll `condition` (for process-table facts, which have no event to await) until it holds;
    TimeoutError after `seconds`."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 (a process exit has no event to await)
            await anyio.sleep(0.02)


async def wait_gone(pids: Iterable[int], seconds: float = WAIT) -> None:
    """Wait until every pid has exited; TimeoutError after `seconds`."""
    pending = set(pids)
    await wait_until(lambda: not any(alive(pid) for pid in pending), seconds)


def descendants(pid: int | None = None) -> list[psutil.Process]:
    """The live processes below `pid` (this process if None), children of children included."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def child_pids(pid: int | None = None) -> set[int]:
    """The pids of every process below `pid` (this process if None), zombies included: a snapshot
    to compare with a later one, so a child spawned in between shows even if it has exited."""
    return {child.pid for child in psutil.Process(pid).children(recursive=True)}


def label_of(cmdline: list[str]) -> str | None:
    """The `--label` argument of a command line, None if it has none."""
    if "--label" in cmdline[:-1]:
        return cmdline[cmdline.index("--label") + 1]
    return None


def server_pids(pid: int, *, cwd: Path | None = None) -> dict[str, list[int]]:
    """Label -> pids of the labelled processes below `pid` (only those running in `cwd`, if given)."""
    found: dict[str, list[int]] = {}
    for child in descendants(pid):
        try:
            label = label_of(child.cmdline())
            if label is None or (cwd is not None and Path(child.cwd()) != cwd):
                continue
        except psutil.NoSuchProcess:
            continue
        found.setdefault(label, []).append(child.pid)
    return found


def rss(pid: int | None = None) -> int:
    """The resident memory of the process `pid` (this process if None), in bytes."""
    return int(psutil.Process(pid).memory_info().rss)


def processes_of(marker: str) -> list[psutil.Process]:
    """Every live process in the whole process table whose command line mentions `marker`."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if process.info["status"] != psutil.STATUS_ZOMBIE and any(marker in part for part in cmdline):
            found.append(process)
    return found


def labels_of(processes: Iterable[psutil.Process]) -> list[str]:
    """The `--label` argument of each process that still exists and has one."""
    labels = []
    for process in processes:
        try:
            label = label_of(process.cmdline())
        except psutil.NoSuchProcess:
            continue
        if label is not None:
            labels.append(label)
    return labels
