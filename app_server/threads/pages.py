"""`thread/turns/list` and `thread/items/list`: a thread's history a page at a time, in either order.

A cursor names its list, its thread and an anchor (a turn; a turn and an item) and whether the
anchor itself belongs to the page it starts, so pages stay right while new turns and items are
added. `nextCursor` continues past a page's last entry; `backwardsCursor`, used with the opposite
direction, starts at the page's first entry again (so a client sees that entry's updates), as
Codex does. Page sizes are Codex's: 25 by default, at most 100, and 0 is served as 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from pydantic import TypeAdapter

from app_server.errors import InvalidParams, quoted
from app_server.threads.cursors import decode_cursor, encode_cursor, invalid_cursor
from app_server.threads.history import ThreadHistory, TurnState
from protocol.items import ThreadItem
from protocol.thread_pages import (
    ThreadItemEntry,
    ThreadItemsListAnchor,
    ThreadItemsListParams,
    ThreadItemsListResponse,
    ThreadTurnsListParams,
    ThreadTurnsListResponse,
)
from protocol.threads import SortDirection
from protocol.turns import Turn, TurnItemsView

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

Scope = Literal["turns", "items"]
Key = tuple[str, ...]
T = TypeVar("T")

_ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)


@dataclass(frozen=True, slots=True)
class Anchor:
    key: Key
    inclusive: bool
    """Whether the anchored entry opens the page (a backwards cursor) or is skipped (a next cursor)."""


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    entries: list[T]
    next_cursor: str | None
    backwards_cursor: str | None


@dataclass(frozen=True, slots=True)
class Pager:
    """Pages one list (`scope`) of one thread; entries are identified by `key`-length string tuples."""

    scope: Scope
    thread_id: str
    key_length: int

    def anchor(self, cursor: str) -> Anchor:
        """The anchor of a cursor this pager issued; raises InvalidParams for any other string."""
        match decode_cursor(cursor):
            case [self.scope, self.thread_id, bool(inclusive), *parts] if len(
                parts
            ) == self.key_length and all(isinstance(part, str) for part in parts):
                return Anchor(tuple(str(part) for part in parts), inclusive)
        raise invalid_cursor(cursor)

    def window(
        self,
        entries: Sequence[T],
        key: Callable[[T], Key],
        *,
        anchor: Anchor | None,
        missing: InvalidParams,
        limit: int | None,
        direction: SortDirection,
    ) -> Window[T]:
        """The page of `entries` (oldest first) after `anchor` in `direction`; raises `missing`
        when the anchor is not among them."""
        ordered = list(reversed(entries)) if direction == "desc" else list(entries)
        if anchor is not None:
            keys = [key(entry) for entry in ordered]
            if anchor.key not in keys:
                raise missing
            index = keys.index(anchor.key)
            ordered = ordered[index if anchor.inclusive else index + 1 :]
        size = min(max(DEFAULT_PAGE_SIZE if limit is None else limit, 1), MAX_PAGE_SIZE)
        chosen = ordered[:size]

        def cursor(entry: T, *, inclusive: bool) -> str:
            return encode_cursor([self.scope, self.thread_id, inclusive, *key(entry)])

        return Window(
            chosen,
            next_cursor=cursor(chosen[-1], inclusive=False) if len(ordered) > size else None,
            backwards_cursor=cursor(chosen[0], inclusive=True) if chosen else None,
        )


def turns_page(
    history: ThreadHistory, params: ThreadTurnsListParams, *, loaded: bool
) -> ThreadTurnsListResponse:
    """A page of the thread's turns, newest first by default, each with the items `itemsView` asks
    (by default the summary). A turn left running by a dead daemon (not `loaded`) reads as interrupted."""
    pager = Pager("turns", history.id, key_length=1)
    cursor = params.cursor
    page = pager.window(
        list(history.turns.values()),
        lambda turn: (turn.id,),
        anchor=None if cursor is None else pager.anchor(cursor),
        missing=InvalidParams(f"invalid cursor: its turn is not in thread {quoted(history.id)}"),
        limit=params.limit,
        direction=params.sort_direction or "desc",
    )
    view = params.items_view or "summary"
    return ThreadTurnsListResponse(
        data=[_in_view(turn, view, running=loaded) for turn in page.entries],
        next_cursor=page.next_cursor,
        backwards_cursor=page.backwards_cursor,
    )


def _in_view(turn: TurnState, view: TurnItemsView, *, running: bool) -> Turn:
    """The wire turn with its items as `view` says; the summary is what Codex shows in a turn
    list: the first user message and the final agent message."""
    if view != "summary":
        return turn.to_model(include_items=view == "full", running=running)
    items = list(turn.items.values())
    first_user = next((item for item in items if item.get("type") == "userMessage"), None)
    final_agent = next((item for item in reversed(items) if item.get("type") == "agentMessage"), None)
    summary = [item for item in (first_user, final_agent) if item is not None]
    return turn.to_model(include_items=False, running=running).model_copy(
        update={"items": [_ITEM.validate_python(item) for item in summary], "items_view": "summary"}
    )


def items_page(history: ThreadHistory, params: ThreadItemsListParams) -> ThreadItemsListResponse:
    """A page of the thread's items (of one turn with `turnId`), oldest first by default.

    Raises InvalidParams for an unknown turn, a cursor we did not issue for this thread, or an item
    anchor without a `turnId` or naming an item that turn does not have.
    """
    turn_id, cursor = params.turn_id, params.cursor
    pager = Pager("items", history.id, key_length=2)
    if isinstance(cursor, ThreadItemsListAnchor):
        if not turn_id:
            raise InvalidParams("an item anchor needs a non-empty `turnId`")
        anchor: Anchor | None = Anchor((turn_id, cursor.item_id), inclusive=False)
        missing = InvalidParams(f"item not found: {quoted(cursor.item_id)} in turn {quoted(turn_id)}")
    else:
        anchor = None if cursor is None else pager.anchor(cursor)
        missing = InvalidParams("invalid cursor: its item is not among the items listed")
    if turn_id is not None and turn_id not in history.turns:
        raise InvalidParams(f"turn not found: {quoted(turn_id)}")
    turns = [history.turns[turn_id]] if turn_id is not None else list(history.turns.values())
    entries = [(turn, item_id) for turn in turns for item_id in turn.items]
    page = pager.window(
        entries,
        lambda entry: (entry[0].id, entry[1]),
        anchor=anchor,
        missing=missing,
        limit=params.limit,
        direction=params.sort_direction or "asc",
    )
    return ThreadItemsListResponse(
        data=[_entry(turn, item_id) for turn, item_id in page.entries],
        next_cursor=page.next_cursor,
        backwards_cursor=page.backwards_cursor,
    )


def _entry(turn: TurnState, item_id: str) -> ThreadItemEntry:
    """The item with the times its producer stamped on it (None where it stamped none)."""
    item = _ITEM.validate_python(turn.items[item_id])
    return ThreadItemEntry(
        turn_id=turn.id, item=item, started_at_ms=item.started_at_ms, completed_at_ms=item.completed_at_ms
    )
