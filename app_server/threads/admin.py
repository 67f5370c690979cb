"""Managing threads rather than running them: the loaded list, names and the archived flag.

Names and the flag are thread metadata recorded in the journal (`threadUpdated`), so they
survive a restart and apply to a stored thread without loading it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from app_server.errors import InvalidParams, quoted
from app_server.threads.ids import require_thread_id
from app_server.threads.records import ThreadChanges
from app_server.threads.store import ThreadStore
from protocol.threads import Thread

MAX_NAME_CHARS = 256
"""The longest thread name accepted: a title for a list, not a document."""


def loaded_page(ids: Sequence[str], cursor: str | None, limit: int | None) -> tuple[list[str], str | None]:
    """One page of loaded thread ids in id order (UUIDv7: creation order) and the cursor of the next.

    The cursor names the last id served, so paging stays correct while threads load or unload.
    No limit: every id; a limit of 0 is served as 1, as `thread/list` does. Raises InvalidParams
    for a cursor we did not issue or a negative limit.
    """
    if limit is not None and limit < 0:
        raise InvalidParams("limit must not be negative")
    ordered = sorted(ids)
    if cursor is not None:
        after = _decode_cursor(cursor)
        ordered = [thread_id for thread_id in ordered if thread_id > after]
    size = len(ordered) if limit is None else max(limit, 1)
    chosen = ordered[:size]
    more = len(ordered) > size
    return chosen, _encode_cursor(chosen[-1]) if more else None


def _encode_cursor(thread_id: str) -> str:
    return base64.urlsafe_b64encode(thread_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        thread_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return require_thread_id(thread_id)
    except (binascii.Error, ValueError, InvalidParams):
        raise InvalidParams(f"invalid cursor: {quoted(cursor)}") from None


def valid_name(name: str) -> str:
    """The name as stored (surrounding whitespace removed); raises InvalidParams for a blank or
    overlong one."""
    name = name.strip()
    if not name:
        raise InvalidParams("thread name must not be empty")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidParams(f"thread name is longer than {MAX_NAME_CHARS} characters")
    return name


async def set_name(store: ThreadStore, thread_id: str, name: str) -> str:
    """Record a new name for a loaded or stored thread; returns it as stored. Raises InvalidParams
    for a bad name or an unknown thread."""
    name = valid_name(name)
    await store.update(thread_id, ThreadChanges(name=name))
    return name


async def set_archived(store: ThreadStore, thread_id: str, archived: bool) -> Thread:
    """Archive or unarchive a stored thread; returns it (no turns).

    Raises InvalidParams for an unknown or ephemeral thread (it has no journal to keep), and when
    archiving a thread whose turn is still running (interrupt it first).
    """
    live = store.loaded(thread_id)
    if live is not None and live.ephemeral:
        raise InvalidParams(f"thread {quoted(thread_id)} is ephemeral: it cannot be archived")
    if archived and live is not None and live.running_turn_ids():
        raise InvalidParams(f"thread {quoted(thread_id)} has a turn in progress: interrupt it first")
    return await store.update(thread_id, ThreadChanges(archived=archived))
