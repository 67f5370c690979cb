"""Wire types of `thread/turns/list` and `thread/items/list`: a thread's history a page at a time."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.items import ThreadItem
from protocol.threads import SortDirection
from protocol.turns import Turn, TurnItemsView


class ThreadTurnsListParams(WireModel):
    """Page through a thread's turns, newest first by default, each with its items in summary.

    Works for loaded and stored threads alike.
    """

    thread_id: str
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0)
    sort_direction: SortDirection | None = None
    """Default: newest first (`desc`)."""
    items_view: TurnItemsView | None = None
    """Default: `summary`."""


class ThreadTurnsListResponse(WireModel):
    data: list[Turn]
    next_cursor: str | None = None
    backwards_cursor: str | None = None
    """Pass as `cursor` with the opposite `sortDirection` to page back (the anchor turn included)."""


class ThreadItemsListAnchor(WireModel):
    """An exclusive position: the items after (ascending) or before (descending) this one."""

    type: Literal["item"] = "item"
    item_id: str


class ThreadItemOutputDeferral(WireModel):
    """Accepted and ignored: outputs are always returned inline."""


class ThreadItemsListParams(WireModel):
    """Page through a thread's items (or one turn's), oldest first by default.

    `deferOutput` is accepted and ignored.
    """

    thread_id: str
    turn_id: str | None = None
    cursor: str | ThreadItemsListAnchor | None = None
    limit: int | None = Field(default=None, ge=0)
    sort_direction: SortDirection | None = None
    """Default: oldest first (`asc`)."""
    defer_output: ThreadItemOutputDeferral | None = None


class ThreadItemEntry(WireModel):
    turn_id: str
    item: ThreadItem
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ThreadItemsListResponse(WireModel):
    data: list[ThreadItemEntry]
    next_cursor: str | None = None
    backwards_cursor: str | None = None
