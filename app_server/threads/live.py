"""A thread loaded in this daemon: the one place its history changes, durably and in order."""

from __future__ import annotations

import time
from typing import Any

import anyio

from app_server.errors import InvalidParams, quoted
from app_server.threads.activity import ThreadActivity
from app_server.threads.history import ThreadHistory
from app_server.threads.ids import new_id
from app_server.threads.journal import Journal
from app_server.threads.listing import ThreadSummary
from app_server.threads.records import (
    FinalTurnStatus,
    ItemCompleted,
    ItemStarted,
    Record,
    ThreadChanges,
    ThreadHeader,
    ThreadUpdated,
    TokensUsed,
    TurnCompleted,
    TurnStarted,
)
from protocol.notifications import ThreadTokenUsage, TokenUsageBreakdown
from protocol.threads import Thread, ThreadStatus
from protocol.turns import Turn


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class LiveThread:
    """A started or resumed thread. Every change is appended to its journal, then applied in memory.

    Durability contract: each `start_*`/`complete_*`/`update` call returns only after its record
    is written and fsynced, so the caller must await it BEFORE publishing the notification
    (or sending the reply) that announces the change; then a crash can never lose anything a
    client was told about. An ephemeral thread has no journal and keeps its history in memory.

    Calls are serialized per thread, so records never interleave, and a call that is cancelled
    mid-write still finishes the write and its in-memory update.
    """

    def __init__(
        self, history: ThreadHistory, journal: Journal | None, load_warnings: tuple[str, ...] = ()
    ) -> None:
        self._history = history
        self._journal = journal
        self._lock = anyio.Lock()
        self.activity = ThreadActivity(history.id)
        """What it is doing now (running, waiting on the user, errored): its wire status."""
        self.load_warnings = load_warnings
        """Lines of the journal that were skipped when this thread was loaded from disk."""

    @property
    def id(self) -> str:
        return self._history.id

    @property
    def ephemeral(self) -> bool:
        return self._journal is None

    @property
    def settings(self) -> ThreadHeader:
        """The thread's current settings (model, cwd, policies...), with every update applied."""
        return self._history.header

    @property
    def history(self) -> ThreadHistory:
        """Its folded history, to read only: every change goes through this thread's records."""
        return self._history

    def snapshot(self, *, include_turns: bool = True) -> Thread:
        """The wire `Thread` as it stands now."""
        return self._history.to_model(
            include_turns=include_turns, loaded=True, ephemeral=self.ephemeral, status=self.status()
        )

    def status(self) -> ThreadStatus:
        return self.activity.status(turn_in_progress=bool(self._history.running_turns()))

    def recorded_items(self) -> list[dict[str, Any]]:
        """Every item of every turn, in order, as recorded (the model's view of the thread is built
        from these, so a step does not revalidate the whole history)."""
        return [item for turn in self._history.turns.values() for item in turn.items.values()]

    def summary(self) -> ThreadSummary:
        return ThreadSummary.of(self._history, loaded=True, status=self.status())

    def turn(self, turn_id: str) -> Turn:
        """The wire `Turn` with its items; raises InvalidParams for an unknown turn."""
        turn = self._history.turns.get(turn_id)
        if turn is None:
            raise InvalidParams(f"turn not found: {quoted(turn_id)}")
        return turn.to_model()

    def running_turn_ids(self) -> list[str]:
        return [turn.id for turn in self._history.running_turns()]

    async def start_turn(self, *, root_turn_id: str | None = None) -> Turn:
        """Record a new turn (UUIDv7 id) and return it as a wire `Turn`, in progress."""
        turn_id = new_id()
        await self._record(TurnStarted(at_ms=now_ms(), turn_id=turn_id, root_turn_id=root_turn_id))
        return self.turn(turn_id)

    async def start_item(self, turn_id: str, item: dict[str, Any]) -> None:
        """Record an item of a running turn as started; `item` is the wire `ThreadItem` (with its `id`).

        Raises InvalidParams if the turn is unknown or finished, or the item has no id.
        """
        await self._record(ItemStarted(at_ms=now_ms(), turn_id=turn_id, item=item))

    async def complete_item(self, turn_id: str, item: dict[str, Any]) -> None:
        """Record an item's final payload (replaces the started one of that id); raises as `start_item`."""
        await self._record(ItemCompleted(at_ms=now_ms(), turn_id=turn_id, item=item))

    async def record_usage(self, turn_id: str, usage: TokenUsageBreakdown) -> ThreadTokenUsage:
        """Record the usage a model response of a running turn reported; returns the thread's new
        tally. Raises as `start_item`."""
        await self._record(TokensUsed(at_ms=now_ms(), turn_id=turn_id, usage=usage))
        assert self._history.token_usage is not None
        return self._history.token_usage

    @property
    def token_usage(self) -> tuple[str, ThreadTokenUsage] | None:
        """The thread's tally and the turn of the latest response counted; None before any."""
        history = self._history
        if history.token_usage is None or history.token_usage_turn_id is None:
            return None
        return history.token_usage_turn_id, history.token_usage

    async def complete_turn(
        self, turn_id: str, status: FinalTurnStatus, error: dict[str, Any] | None = None
    ) -> Turn:
        """Record how a running turn ended and return the final wire `Turn`.

        `error` is a wire `TurnError`. Raises InvalidParams if the turn is unknown or already ended.
        """
        await self._record(TurnCompleted(at_ms=now_ms(), turn_id=turn_id, status=status, error=error))
        return self.turn(turn_id)

    async def update(self, changes: ThreadChanges) -> None:
        """Record a change of name, preview, archived flag or settings (only the fields set in `changes`)."""
        await self._record(ThreadUpdated.of(changes, now_ms()))

    async def _record(self, record: Record) -> None:
        with anyio.CancelScope(shield=True):
            async with self._lock:
                problem = self._history.problem(record)
                if problem is not None:
                    raise InvalidParams(problem)
                if self._journal is not None:
                    await self._journal.append(record)
                self._history.apply(record)
