"""Summaries of every thread file on disk for `thread/list`, parsed only when a file changed.

Each summary is cached with the (mtime, size) of the file it came from and the cache is kept in
`<threads>/.index.json`, so after a restart only the journals that changed are parsed again.
The index is only a cache: if it is missing or unreadable it is rebuilt from the journals.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from app_server.threads.history import replay
from app_server.threads.journal import FILE_MODE, ensure_private_dir, read_journal, write_all
from app_server.threads.listing import ThreadSummary

INDEX_NAME = ".index.json"
INDEX_VERSION = 1
JOURNAL_NAME = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl")

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Entry:
    stamp: tuple[int, int]
    """(mtime in ns, size) of the journal when it was summarized."""
    summary: ThreadSummary | None
    problem: str | None
    """Why the journal could not be summarized (it is then left out of lists)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "stamp": list(self.stamp),
            "summary": None if self.summary is None else self.summary.to_json(),
            "problem": self.problem,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Entry:
        mtime_ns, size = data["stamp"]
        summary = None if data["summary"] is None else ThreadSummary.from_json(data["summary"])
        return cls((int(mtime_ns), int(size)), summary, data["problem"])


@dataclass(frozen=True, slots=True)
class CatalogScan:
    summaries: list[ThreadSummary]
    warnings: list[str]
    """One per journal that had to be left out."""


class ThreadCatalog:
    """The on-disk threads of one threads directory, summarized for listing."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._entries: dict[str, _Entry] | None = None
        self._lock = anyio.Lock()

    async def scan(self, *, skip: Collection[str] = ()) -> CatalogScan:
        """Summaries of every thread journal except the ids in `skip` (threads the caller holds live)."""
        async with self._lock:
            return await anyio.to_thread.run_sync(self._scan, skip)

    async def forget(self, thread_id: str) -> None:
        """Drop a deleted thread's entry, so the index on disk no longer names it."""
        async with self._lock:
            await anyio.to_thread.run_sync(self._forget, thread_id)

    def _forget(self, thread_id: str) -> None:
        entries = self._entries if self._entries is not None else self._load_index()
        if entries.pop(thread_id, None) is not None:
            self._save_index(entries)
        self._entries = entries

    def _scan(self, skip: Collection[str]) -> CatalogScan:
        previous = self._entries if self._entries is not None else self._load_index()
        current: dict[str, _Entry] = {}
        try:
            listing = list(os.scandir(self._root))
        except FileNotFoundError:
            listing = []
        for dir_entry in listing:
            match = JOURNAL_NAME.fullmatch(dir_entry.name)
            if match is None:
                continue
            thread_id = match.group(1)
            cached = previous.get(thread_id)
            if thread_id in skip:
                if cached is not None:
                    current[thread_id] = cached
                continue
            try:
                stat = dir_entry.stat()
                stamp = (stat.st_mtime_ns, stat.st_size)
                current[thread_id] = (
                    cached
                    if cached is not None and cached.stamp == stamp
                    else _summarize(dir_entry.path, stamp)
                )
            except FileNotFoundError:
                continue  # removed while we looked
        self._entries = current
        if current != previous:
            self._save_index(current)
        summaries, warnings = [], []
        for thread_id, entry in current.items():
            if thread_id in skip:
                continue
            if entry.summary is not None:
                summaries.append(entry.summary)
            else:
                warnings.append(f"thread {thread_id} was left out: {entry.problem}")
        return CatalogScan(summaries, warnings)

    def _load_index(self) -> dict[str, _Entry]:
        try:
            data = json.loads((self._root / INDEX_NAME).read_bytes())
            if data.get("version") != INDEX_VERSION:
                return {}
            return {thread_id: _Entry.from_json(entry) for thread_id, entry in data["threads"].items()}
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError):
            _log.warning("thread index is unreadable; rebuilding it from the thread files")
            return {}

    def _save_index(self, entries: dict[str, _Entry]) -> None:
        payload = {
            "version": INDEX_VERSION,
            "threads": {key: entry.to_json() for key, entry in entries.items()},
        }
        data = json.dumps(payload, separators=(",", ":")).encode()
        staging = self._root / f"{INDEX_NAME}.{os.getpid()}.tmp"
        try:
            ensure_private_dir(self._root)
            fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            try:
                write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(staging, self._root / INDEX_NAME)
        except OSError as exc:
            # The index only saves work; listing still answers from memory.
            _log.warning("could not save the thread index: %s", exc.strerror)


def _summarize(path: str, stamp: tuple[int, int]) -> _Entry:
    contents = read_journal(Path(path))
    history = replay(contents.records, contents.warnings)
    if history is None:
        return _Entry(stamp, None, "its header is missing or corrupt")
    if f"{history.id}.jsonl" != Path(path).name:
        return _Entry(stamp, None, "its header names another thread")
    return _Entry(stamp, ThreadSummary.of(history, loaded=False), None)
