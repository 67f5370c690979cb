"""`thread/fork`'s history: a source thread's turns, through a chosen one, as records for a new journal.

The source's records are copied as written (same turn and item ids, timestamps, token usage), so
the fork reads back, and feeds the model, exactly the history the source had; its metadata
records (`threadUpdated`: name, archived flag) are not history and stay with the source, whose
journal is only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app_server.errors import InvalidParams, RequestFailed, quoted
from app_server.threads.history import RESTART_INTERRUPTION, replay
from app_server.threads.records import Record, ThreadHeader, ThreadUpdated, TurnCompleted
from app_server.threads.store import ThreadStore


@dataclass(frozen=True, slots=True)
class ForkSource:
    settings: ThreadHeader
    """The source's current settings and metadata (every update applied)."""
    records: Sequence[Record]
    """Its turns' records through the chosen turn, each of those turns finished."""


async def fork_source(store: ThreadStore, thread_id: str, last_turn_id: str | None) -> ForkSource:
    """What a fork of `thread_id` through `last_turn_id` (inclusive; every turn when None) copies.

    Raises InvalidParams for an unknown, ephemeral (it has no journal to copy) or archived thread,
    one with a turn in progress, and a `last_turn_id` that is not one of its turns; RequestFailed
    for an unreadable journal.
    """
    live = store.loaded(thread_id)
    if live is not None and live.ephemeral:
        raise InvalidParams(f"thread {quoted(thread_id)} is ephemeral: it has no stored history to fork")
    if live is not None and live.running_turn_ids():
        raise InvalidParams(f"thread {quoted(thread_id)} has a turn in progress: fork it once the turn ends")
    records = await store.records(thread_id)
    fitting: list[Record] = []
    history = replay(records, [], fitting)
    if history is None:
        raise RequestFailed(f"thread {thread_id} cannot be read: its header is missing or corrupt")
    if history.header.archived:
        raise InvalidParams(f"thread {quoted(thread_id)} is archived: unarchive it to fork it")
    turn_ids = list(history.turns)
    if last_turn_id is not None:
        if last_turn_id not in history.turns:
            raise InvalidParams(f"turn {quoted(last_turn_id)} is not a turn of thread {quoted(thread_id)}")
        turn_ids = turn_ids[: turn_ids.index(last_turn_id) + 1]
    kept = set(turn_ids)
    copied = [
        record
        for record in fitting
        if not isinstance(record, ThreadHeader | ThreadUpdated) and record.turn_id in kept
    ]
    # A turn a dead daemon left running reads as interrupted; the fork records it so.
    copied += [
        TurnCompleted(
            at_ms=history.updated_at_ms,
            turn_id=turn.id,
            status="interrupted",
            error={"message": RESTART_INTERRUPTION},
        )
        for turn in history.running_turns()
        if turn.id in kept
    ]
    return ForkSource(history.header, copied)
