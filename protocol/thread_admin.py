"""Wire types of the `thread/*` methods that manage threads rather than run them: the loaded list,
names, archiving, deleting and unsubscribing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.threads import Thread

ThreadUnsubscribeStatus = Literal["notLoaded", "notSubscribed", "unsubscribed"]


class ThreadLoadedListParams(WireModel):
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0)
    """A page size; none: every loaded thread."""


class ThreadLoadedListResponse(WireModel):
    data: list[str]
    """Thread ids."""
    next_cursor: str | None = None


class ThreadSetNameParams(WireModel):
    thread_id: str
    name: str


class ThreadSetNameResponse(WireModel):
    """Empty object: the name is durable; `thread/name/updated` announces it."""


class ThreadArchiveParams(WireModel):
    thread_id: str


class ThreadArchiveResponse(WireModel):
    """Empty object: the thread is archived; `thread/archived` announces it."""


class ThreadUnarchiveParams(WireModel):
    thread_id: str


class ThreadUnarchiveResponse(WireModel):
    thread: Thread


class ThreadUnsubscribeParams(WireModel):
    thread_id: str


class ThreadUnsubscribeResponse(WireModel):
    status: ThreadUnsubscribeStatus


class ThreadDeleteParams(WireModel):
    thread_id: str


class ThreadDeleteResponse(WireModel):
    """Empty object: the thread's journal is gone; `thread/deleted` announces it."""
