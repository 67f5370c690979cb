"""The thread store: creates, loads, reads and lists threads kept as JSON-lines files.

Layout: one journal per thread at `<home>/threads/<thread id>.jsonl` (flat, so an id maps to
its file without searching), plus `<home>/threads/.index.json`, a rebuildable cache of list
summaries. Directories are created 0700 and files 0600. Ephemeral threads are never written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from app_server import __version__
from app_server.errors import InvalidParams, RequestFailed
from app_server.home import home_dir
from app_server.threads.catalog import ThreadCatalog
from app_server.threads.history import RESTART_INTERRUPTION, ThreadHistory, replay
from app_server.threads.ids import new_id, require_thread_id
from app_server.threads.journal import Journal, JournalContents, read_journal
from app_server.threads.listing import DEFAULT_PAGE_SIZE, SortDirection, SortKey, ThreadFilter, page
from app_server.threads.live import LiveThread, now_ms
from app_server.threads.records import Record, ThreadChanges, ThreadHeader, ThreadSettings, ThreadUpdated
from protocol.threads import Thread

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThreadReadout:
    thread: Thread
    warnings: tuple[str, ...]
    """Journal lines that were skipped (torn or corrupt); empty for a healthy thread."""


@dataclass(frozen=True, slots=True)
class ThreadPage:
    data: list[dict[str, Any]]
    """Wire `Thread`s without turns."""
    next_cursor: str | None
    """Pass back to get the next page; None on the last page."""
    warnings: tuple[str, ...]
    """Threads left out because their journal cannot be read."""


class ThreadStore:
    """Every thread of one home directory: the live ones in memory, the rest on disk."""

    def __init__(self, root: Path | None = None, *, cli_version: str = __version__) -> None:
        self.root = root if root is not None else home_dir() / "threads"
        self._cli_version = cli_version
        self._live: dict[str, LiveThread] = {}
        self._catalog = ThreadCatalog(self.root)
        self._loading = anyio.Lock()

    async def create(
        self,
        settings: ThreadSettings,
        *,
        ephemeral: bool = False,
        forked_from_id: str | None = None,
        history: Sequence[Record] = (),
    ) -> LiveThread:
        """Start a thread with a new UUIDv7 id; its header (and `history`, the turns a fork copies,
        which must fit one another) is on disk (unless ephemeral) when this returns.

        Raises RequestFailed if the journal cannot be written.
        """
        header = ThreadHeader.model_validate(
            {
                **settings.model_dump(),
                "id": new_id(),
                "at_ms": now_ms(),
                "cli_version": self._cli_version,
                "forked_from_id": forked_from_id,
            }
        )
        journal = None if ephemeral else Journal(self._journal_path(header.id), header.id)
        if journal is not None:
            await journal.create(header, history)
        folded = ThreadHistory(header)
        for record in history:
            folded.apply(record)
        live = LiveThread(folded, journal)
        self._live[header.id] = live
        return live

    async def discard(self, thread_id: str) -> None:
        """Forget a thread and delete its journal (a thread whose start failed was never announced)."""
        self._live.pop(thread_id, None)
        await anyio.Path(self._journal_path(thread_id)).unlink(missing_ok=True)

    async def delete(self, thread_id: str) -> None:
        """Delete a loaded or stored thread for good: its journal and its index entry.

        Raises InvalidParams for a malformed or unknown id.
        """
        require_thread_id(thread_id)
        async with self._loading:
            if thread_id not in self._live and not await anyio.Path(self._journal_path(thread_id)).exists():
                raise InvalidParams(f"thread not found: {thread_id}")
            await self.discard(thread_id)
            await self._catalog.forget(thread_id)

    def unload(self, thread_id: str) -> None:
        """Forget a live thread (its journal stays): the next `resume` reads it from disk again."""
        self._live.pop(thread_id, None)

    def loaded(self, thread_id: str) -> LiveThread | None:
        """The live thread with this id, if it is loaded in this daemon."""
        return self._live.get(thread_id)

    async def resume(self, thread_id: str) -> LiveThread:
        """Load a thread from disk as a live thread (or return it if it is already live).

        Turns that were running when the previous daemon died are closed as interrupted by an
        appended `turnCompleted` record: history is completed, never rewritten. A torn last line
        is ended with a newline so new records stay whole; it is reported in `load_warnings`.
        Raises InvalidParams for a malformed or unknown id, RequestFailed for an unreadable journal.
        """
        require_thread_id(thread_id)
        async with self._loading:
            live = self._live.get(thread_id)
            if live is not None:
                return live
            history, warnings = await self._load(thread_id)
            journal = Journal(self._journal_path(thread_id), thread_id)
            await journal.seal_torn_tail()
            live = LiveThread(history, journal, warnings)
            for turn_id in live.running_turn_ids():
                await live.complete_turn(turn_id, "interrupted", {"message": RESTART_INTERRUPTION})
            self._live[thread_id] = live
            return live

    async def update(self, thread_id: str, changes: ThreadChanges) -> Thread:
        """Record `changes` (name, archived flag...) durably and return the wire `Thread` (no turns).

        A loaded thread records them itself; a stored one gets the record appended to its journal
        without being loaded (no MCP server starts for a rename), under the lock a load takes, so a
        concurrent `resume` reads it. Raises as `read`, and RequestFailed when the journal cannot
        be written.
        """
        require_thread_id(thread_id)
        async with self._loading:
            live = self._live.get(thread_id)
            if live is not None:
                await live.update(changes)
                return live.snapshot(include_turns=False)
            history, _warnings = await self._load(thread_id)
            journal = Journal(self._journal_path(thread_id), thread_id)
            await journal.seal_torn_tail()
            record = ThreadUpdated.of(changes, now_ms())
            await journal.append(record)
            history.apply(record)
            return history.to_model(include_turns=False, loaded=False, ephemeral=False)

    async def read(self, thread_id: str, *, include_turns: bool = False) -> ThreadReadout:
        """The wire `Thread`; a turn left running by a dead daemon reads as interrupted.

        Raises InvalidParams for a malformed or unknown id, RequestFailed for an unreadable journal.
        """
        require_thread_id(thread_id)
        live = self._live.get(thread_id)
        if live is not None:
            return ThreadReadout(live.snapshot(include_turns=include_turns), ())
        history, warnings = await self._load(thread_id)
        return ThreadReadout(
            history.to_model(include_turns=include_turns, loaded=False, ephemeral=False), warnings
        )

    async def records(self, thread_id: str) -> list[Record]:
        """The readable records of a durable thread's journal, loaded or not (torn lines left out).

        Raises InvalidParams for a malformed or unknown id, RequestFailed for an unreadable journal.
        """
        return (await self._read_journal(thread_id)).records

    async def history(self, thread_id: str) -> tuple[ThreadHistory, bool]:
        """A thread's folded history and whether it is loaded here (else no turn of it is running).

        Raises InvalidParams for a malformed or unknown id, RequestFailed for an unreadable journal.
        """
        require_thread_id(thread_id)
        live = self._live.get(thread_id)
        if live is not None:
            return live.history, True
        history, _ = await self._load(thread_id)
        return history, False

    async def list_threads(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort_key: SortKey = "created_at",
        sort_direction: SortDirection = "desc",
        cwd: str | Sequence[str] | None = None,
        model_providers: Sequence[str] | None = None,
        search_term: str | None = None,
        archived: bool | None = None,
        excluded_ids: Sequence[str] | None = None,
    ) -> ThreadPage:
        """One page of the durable threads (ephemeral ones are not listed), newest first by default.

        `cwd` and `model_providers` keep threads matching any value given (empty: all);
        `search_term` is a case-insensitive substring of the name or preview; `archived`
        true lists only archived threads, otherwise only the others.
        A `limit` of 0 is served as 1, as Codex does. Raises InvalidParams for a cursor this store
        did not issue or a negative limit.
        """
        if limit is not None and limit < 0:
            raise InvalidParams("limit must not be negative")
        wanted = ThreadFilter(
            cwds=(cwd,) if isinstance(cwd, str) else tuple(cwd or ()),
            model_providers=tuple(model_providers or ()),
            search_term=search_term,
            archived=bool(archived),
            excluded_ids=frozenset(excluded_ids or ()),
        )
        durable = {thread_id: live for thread_id, live in self._live.items() if not live.ephemeral}
        scan = await self._catalog.scan(skip=set(durable))
        summaries = scan.summaries + [live.summary() for live in durable.values()]
        chosen = page(
            summaries,
            wanted=wanted,
            sort_key=sort_key,
            direction=sort_direction,
            cursor=cursor,
            limit=DEFAULT_PAGE_SIZE if limit is None else max(limit, 1),
        )
        return ThreadPage([s.thread for s in chosen.summaries], chosen.next_cursor, tuple(scan.warnings))

    def _journal_path(self, thread_id: str) -> Path:
        return self.root / f"{require_thread_id(thread_id)}.jsonl"

    async def _read_journal(self, thread_id: str) -> JournalContents:
        path = self._journal_path(thread_id)
        try:
            return await anyio.to_thread.run_sync(read_journal, path)
        except FileNotFoundError:
            raise InvalidParams(f"thread not found: {thread_id}") from None
        except OSError as exc:
            raise RequestFailed(f"thread {thread_id} cannot be read: {exc.strerror}") from None

    async def _load(self, thread_id: str) -> tuple[ThreadHistory, tuple[str, ...]]:
        contents = await self._read_journal(thread_id)
        history = replay(contents.records, contents.warnings)
        if history is None or history.id != thread_id:
            raise RequestFailed(f"thread {thread_id} cannot be read: its header is missing or corrupt")
        for warning in contents.warnings:
            _log.warning("thread %s: %s", thread_id, warning)
        return history, tuple(contents.warnings)
