"""Thread summaries and the pure part of `thread/list`: filters, ordering and opaque keyset cursors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from app_server.threads.cursors import decode_cursor, encode_cursor, invalid_cursor
from app_server.threads.history import ThreadHistory
from protocol.threads import ThreadStatus

SortKey = Literal["created_at", "updated_at"]
SortDirection = Literal["asc", "desc"]

DEFAULT_PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """What `thread/list` needs of one thread, small enough to cache for thousands of threads."""

    thread: dict[str, Any]
    """The wire `Thread` without turns."""
    created_at_ms: int
    updated_at_ms: int
    archived: bool

    @classmethod
    def of(cls, history: ThreadHistory, *, loaded: bool, status: ThreadStatus | None = None) -> ThreadSummary:
        thread = history.to_model(include_turns=False, loaded=loaded, ephemeral=False, status=status)
        return cls(
            thread=thread.to_wire(),
            created_at_ms=history.header.at_ms,
            updated_at_ms=history.updated_at_ms,
            archived=history.header.archived,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "thread": self.thread,
            "createdAtMs": self.created_at_ms,
            "updatedAtMs": self.updated_at_ms,
            "archived": self.archived,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThreadSummary:
        """Rebuild from `to_json`; raises KeyError/TypeError on anything else."""
        thread = data["thread"]
        if not isinstance(thread, dict) or not isinstance(thread["id"], str):
            raise TypeError("not a thread summary")
        return cls(thread, int(data["createdAtMs"]), int(data["updatedAtMs"]), bool(data["archived"]))

    def sort_value(self, key: SortKey) -> int:
        return self.created_at_ms if key == "created_at" else self.updated_at_ms


@dataclass(frozen=True, slots=True)
class ThreadFilter:
    """Which threads a `thread/list` call wants; empty lists mean "no restriction"."""

    cwds: tuple[str, ...] = ()
    model_providers: tuple[str, ...] = ()
    search_term: str | None = None
    archived: bool = False
    excluded_ids: frozenset[str] = frozenset()

    def matches(self, summary: ThreadSummary) -> bool:
        thread = summary.thread
        if summary.archived != self.archived or thread["id"] in self.excluded_ids:
            return False
        if self.cwds and thread["cwd"] not in self.cwds:
            return False
        if self.model_providers and thread["modelProvider"] not in self.model_providers:
            return False
        if self.search_term:
            title = f"{thread.get('name') or ''}\n{thread.get('preview') or ''}"
            return self.search_term.casefold() in title.casefold()
        return True


@dataclass(frozen=True, slots=True)
class ThreadPageSlice:
    summaries: list[ThreadSummary]
    next_cursor: str | None


def page(
    summaries: list[ThreadSummary],
    *,
    wanted: ThreadFilter,
    sort_key: SortKey,
    direction: SortDirection,
    cursor: str | None,
    limit: int,
) -> ThreadPageSlice:
    """One page of the matching threads, ordered by (sort value, id).

    The cursor names the last thread of the previous page by its sort value and id, so paging
    stays correct while threads are added. Raises InvalidParams for a cursor we did not issue
    (or issued for another sort key).
    """
    descending = direction == "desc"

    def position(summary: ThreadSummary) -> tuple[int, str]:
        return summary.sort_value(sort_key), summary.thread["id"]

    matching = sorted(
        (summary for summary in summaries if wanted.matches(summary)), key=position, reverse=descending
    )
    if cursor is not None:
        anchor = decode_thread_cursor(cursor, sort_key)
        matching = [s for s in matching if (position(s) < anchor if descending else position(s) > anchor)]
    chosen = matching[:limit]
    more = len(matching) > limit
    return ThreadPageSlice(
        chosen, encode_thread_cursor(sort_key, position(chosen[-1])) if more and chosen else None
    )


def encode_thread_cursor(sort_key: SortKey, anchor: tuple[int, str]) -> str:
    """An opaque cursor pointing just past `anchor` (a thread's sort value and id)."""
    return encode_cursor([sort_key, *anchor])


def decode_thread_cursor(cursor: str, sort_key: SortKey) -> tuple[int, str]:
    """The (sort value, id) anchor in `cursor`; raises InvalidParams when it is not one of ours."""
    match decode_cursor(cursor):
        case [key, int(value), str(thread_id)] if key == sort_key:
            return value, thread_id
    raise invalid_cursor(cursor)
