"""A thread's state folded from its records, and its rendering as the wire `Thread` and `Turn` models."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from app_server.threads.records import (
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
from app_server.threads.usage import added
from protocol.items import ThreadItem
from protocol.notifications import ThreadTokenUsage
from protocol.threads import (
    ActiveStatus,
    IdleStatus,
    NotLoadedStatus,
    Thread,
    ThreadHistoryMode,
    ThreadStatus,
)
from protocol.turns import Turn, TurnError, TurnStatus

RESTART_INTERRUPTION = "turn was interrupted by a daemon restart"

HISTORY_MODE: ThreadHistoryMode = "legacy"
"""`thread/resume` and `thread/read` return whole turns; there is no paged history."""


@cache
def _items() -> TypeAdapter[list[ThreadItem]]:
    """Built on first use: a new thread's replies never validate stored items."""
    return TypeAdapter(list[ThreadItem])


@dataclass(slots=True)
class TurnState:
    id: str
    started_at_ms: int
    root_turn_id: str | None
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Latest payload of each item by id, in the order the items first appeared."""
    status: TurnStatus = "inProgress"
    error: dict[str, Any] | None = None
    completed_at_ms: int | None = None

    @property
    def in_progress(self) -> bool:
        return self.status == "inProgress"

    def to_model(self, *, include_items: bool = True, running: bool = True) -> Turn:
        """The wire `Turn`; an unfinished turn that is not `running` here shows as interrupted."""
        status, error = self.status, self.error
        if self.in_progress and not running:
            status, error = "interrupted", {"message": RESTART_INTERRUPTION}
        completed = self.completed_at_ms
        return Turn(
            id=self.id,
            items=_items().validate_python(list(self.items.values())) if include_items else [],
            items_view="full" if include_items else "notLoaded",
            status=status,
            error=TurnError.model_validate(error) if error is not None else None,
            started_at=self.started_at_ms // 1000,
            completed_at=None if completed is None else completed // 1000,
            duration_ms=None if completed is None else completed - self.started_at_ms,
            # A turn not started on behalf of another is the root of its own chain.
            root_turn_id=self.root_turn_id or self.id,
        )


class ThreadHistory:
    """Everything a journal says about one thread, folded record by record.

    `problem(record)` says why a record does not fit the history (or None): the live thread
    refuses such a record before writing it; replay from disk skips and reports it.
    """

    def __init__(self, header: ThreadHeader) -> None:
        self.header = header
        self.turns: dict[str, TurnState] = {}
        self.updated_at_ms = header.at_ms
        self.token_usage: ThreadTokenUsage | None = None
        """Every model response's usage summed, and the latest; None until one reported any."""
        self.token_usage_turn_id: str | None = None
        """The turn of the latest response that reported usage."""

    @property
    def id(self) -> str:
        return self.header.id

    def running_turns(self) -> list[TurnState]:
        return [turn for turn in self.turns.values() if turn.in_progress]

    def problem(self, record: Record) -> str | None:
        """Why `record` cannot be applied to this history, or None when it can."""
        if isinstance(record, ThreadHeader):
            return "a second thread header"
        if isinstance(record, ThreadUpdated):
            return None
        turn = self.turns.get(record.turn_id)
        if isinstance(record, TurnStarted):
            return f"turn {record.turn_id} already exists" if turn is not None else None
        if turn is None:
            return f"turn not found: {record.turn_id}"
        if not turn.in_progress:
            return f"turn {record.turn_id} is already {turn.status}"
        if isinstance(record, ItemStarted | ItemCompleted) and not isinstance(record.item.get("id"), str):
            return "an item without a string `id`"
        return None

    def apply(self, record: Record) -> None:
        """Fold one record in; the caller has checked `problem(record)` is None."""
        self.updated_at_ms = max(self.updated_at_ms, record.at_ms)
        if isinstance(record, ThreadUpdated):
            changed = record.model_fields_set & ThreadChanges.model_fields.keys()
            changes = {name: getattr(record, name) for name in changed}
            self.header = self.header.model_copy(update=changes)
        elif isinstance(record, TurnStarted):
            self.turns[record.turn_id] = TurnState(record.turn_id, record.at_ms, record.root_turn_id)
        elif isinstance(record, ItemStarted | ItemCompleted):
            self.turns[record.turn_id].items[record.item["id"]] = record.item
            if not self.header.preview:
                self.header = self.header.model_copy(update={"preview": _preview_of(record.item)})
        elif isinstance(record, TokensUsed):
            self.token_usage = added(self.token_usage, record.usage)
            self.token_usage_turn_id = record.turn_id
        elif isinstance(record, TurnCompleted):
            turn = self.turns[record.turn_id]
            turn.status, turn.error, turn.completed_at_ms = record.status, record.error, record.at_ms

    def to_model(
        self, *, include_turns: bool, loaded: bool, ephemeral: bool, status: ThreadStatus | None = None
    ) -> Thread:
        """The wire `Thread`. A thread not `loaded` in this daemon has no running turn; a loaded
        one reads as `status` (what its activity says), by default active while a turn runs."""
        header = self.header
        if not loaded:
            status = NotLoadedStatus()
        elif status is None:
            status = ActiveStatus() if self.running_turns() else IdleStatus()
        turns = [turn.to_model(running=loaded) for turn in self.turns.values()] if include_turns else []
        return Thread.model_validate(
            {
                "id": header.id,
                "session_id": header.id,
                "cli_version": header.cli_version,
                "created_at": header.at_ms // 1000,
                "updated_at": self.updated_at_ms // 1000,
                # Threads are ordered by their last activity: recency is the update time.
                "recency_at": self.updated_at_ms // 1000,
                "history_mode": HISTORY_MODE,
                # `path` and `originator` stay null: the journal is not a Codex rollout a client
                # could read, and which client created the thread is not recorded.
                "cwd": header.cwd,
                "ephemeral": ephemeral,
                "model_provider": header.model_provider,
                "model": header.model,
                "name": header.name,
                "forked_from_id": header.forked_from_id,
                "preview": header.preview,
                "reasoning_effort": header.reasoning_effort,
                "source": header.source,
                "thread_source": header.thread_source,
                "status": status,
                "turns": turns,
            }
        )


def _preview_of(item: dict[str, Any]) -> str:
    """The text of a user message (what thread lists show as the preview); empty for other items."""
    if item.get("type") != "userMessage":
        return ""
    parts = item.get("content")
    if not isinstance(parts, list):
        return ""
    texts = [part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return "\n".join(texts)


def replay(
    records: list[Record], warnings: list[str], applied: list[Record] | None = None
) -> ThreadHistory | None:
    """Fold a journal's records; None when it has no readable header (the thread cannot be shown).

    Records that do not fit (e.g. an item of a turn whose start line was lost) are skipped,
    and each is reported in `warnings`; those that fit are added to `applied`, if given.
    """
    if not records or not isinstance(records[0], ThreadHeader):
        warnings.append("the thread header is missing or corrupt")
        return None
    history = ThreadHistory(records[0])
    for position, record in enumerate(records[1:], start=2):
        problem = history.problem(record)
        if problem is None:
            history.apply(record)
            if applied is not None:
                applied.append(record)
        else:
            warnings.append(f"record {position} ({record.type}) was skipped: {problem}")
    return history
